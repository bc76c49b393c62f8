import Foundation
import Synchronization

/// A CloudEvent waiting in the outbox: committed with the change it reports, published by `OutboxRelay`.
public struct OutboxMessage: Sendable, Equatable {
    /// The CloudEvent id (consumers deduplicate on it, so a re-publish after a lost PUBACK is harmless).
    public var id: String
    /// The UNS topic, `<prefix>/<asset>/event/<type>`.
    public var topic: String
    /// The CloudEvent JSON.
    public var payload: String

    public init(id: String, topic: String, payload: String) {
        self.id = id
        self.topic = topic
        self.payload = payload
    }
}

/// Outbox positions of this process: strictly increasing (the clock in microseconds, bumped past the last
/// one), so the relay publishes one work order's events in the order they were committed.
final class OutboxPositions: Sendable {
    private let last = Mutex<Int64>(0)

    func next(now: Int64 = Millis.now()) -> Int64 {
        last.withLock { last in
            last = max(last + 1, now * 1000)
            return last
        }
    }
}

extension APIStore {
    /// Machine metrics whose value is the machine's ideal (target) cycle time in seconds, in order of
    /// preference; `cycleTimeSetpoint` is what `simulate`'s register map and the default gateway publish.
    static let machineCycleMetrics = ["idealCycleTime", "cycleTimeSetpoint"]

    /// The statements that put `event` into the outbox (none for nil), for a transaction with its change.
    func outboxInserts(_ event: OutboxMessage?) -> [(String, [SQLValue])] {
        guard let event else { return [] }
        return [("INSERT INTO outbox (id, position, topic, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                 [.text(event.id), .integer(outboxPositions.next()), .text(event.topic), .text(event.payload),
                  .integer(Millis.now())])]
    }

    /// The oldest `limit` messages waiting in the outbox, in commit order.
    func pendingOutbox(limit: Int) async throws -> [OutboxMessage] {
        try await backend.query("SELECT id, topic, payload FROM outbox ORDER BY position, id LIMIT ?",
                                [.integer(Int64(limit))]).map {
            OutboxMessage(id: $0[0].string ?? "", topic: $0[1].string ?? "", payload: $0[2].string ?? "")
        }
    }

    /// Removes a message the broker acknowledged.
    func deleteOutbox(id: String) async throws {
        _ = try await backend.run("DELETE FROM outbox WHERE id = ?", [.text(id)])
    }

    /// Forgets the deduplication keys of events received before `cutoff` (Unix ms); returns how many.
    /// A copy of such an event arriving later is projected again, which every projection tolerates
    /// (each statement is idempotent); it only reappears on the live stream.
    @discardableResult
    func pruneProcessedEvents(receivedBefore cutoff: Int64) async throws -> Int {
        try await backend.run("DELETE FROM processed_events WHERE received_at < ?", [.integer(cutoff)])
    }

    /// How many deduplication keys are kept (for tests and metrics).
    func processedEventCount() async throws -> Int {
        Int(try await backend.query("SELECT COUNT(*) FROM processed_events", []).first?[0].int ?? 0)
    }

    /// Each machine's own ideal cycle time at or below `path`, from its latest `machineCycleMetrics` value
    /// (a positive number of seconds); machines without one are absent.
    func machineCycleSeconds(under path: String) async throws -> [String: Double] {
        let metrics = Self.machineCycleMetrics
        let marks = Array(repeating: "?", count: metrics.count).joined(separator: ", ")
        let rows = try await backend.query(
            "SELECT path, metric, value_json FROM latest_values WHERE metric IN (\(marks)) AND (path = ? OR path LIKE ?)",
            metrics.map(SQLValue.text) + [.text(path), .text(Self.likePrefix(path))])
        var best: [String: (rank: Int, seconds: Double)] = [:]
        for row in rows {
            guard let machine = row[0].string, let rank = metrics.firstIndex(of: row[1].string ?? ""),
                  let seconds = Double((row[2].string ?? "").trimmingCharacters(in: .whitespaces)),
                  seconds.isFinite, seconds > 0 else { continue }
            if let current = best[machine], current.rank <= rank { continue }
            best[machine] = (rank, seconds)
        }
        return best.mapValues(\.seconds)
    }
}
