@testable import APICore
import EventSchema
import Foundation
import Logging
import MQTT
import Postgres
import ServiceLifecycle
import TestSupport
import Testing

/// The outbox, deduplication pruning, the asset tree's paths and the machines' own cycle times, on both
/// store engines (each test in its own SQLite file or PostgreSQL schema).
@Suite("api store: outbox, pruning, tree, cycle times")
struct APIStoreOutboxTests {
    enum Engine: String, CaseIterable, Sendable { case sqlite, postgres }

    static func open(_ engine: Engine) async throws -> (APIStore, cleanup: @Sendable () -> Void) {
        let logger = Logger(label: "api-store-test")
        switch engine {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("api-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try await APIStore.open(.sqlite(path: directory.appendingPathComponent("api.db").path), logger: logger)
            return (store, { try? FileManager.default.removeItem(at: directory) })
        case .postgres:
            let configuration = PostgresConfiguration(
                host: try TestEnvironment.require("POSTGRES_HOST"), port: try TestEnvironment.requireInt("POSTGRES_PORT"),
                user: try TestEnvironment.require("POSTGRES_USER"), database: try TestEnvironment.require("POSTGRES_DB"))
            let schema = "api_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
            return (try await APIStore.open(.postgres(configuration, schema: schema), logger: logger), {})
        }
    }

    static let line = "acme/plant1/press-area/line-1"

    @Test(arguments: Engine.allCases)
    func theOutboxCommitsOnlyWithItsChangeAndKeepsCommitOrder(_ engine: Engine) async throws {
        let (store, cleanup) = try await Self.open(engine)
        defer { cleanup() }
        try await store.upsertProduct(Product(id: "BRK-1", name: "Bracket", idealCycleSeconds: 2))
        let draft = try WorkOrderInput(id: "WO-1", product: "BRK-1", quantityTarget: 5, asset: Self.line).validated()
        func message(_ id: String) -> OutboxMessage { OutboxMessage(id: id, topic: "t/\(id)", payload: #"{"id":"\#(id)"}"#) }
        _ = try await store.insertWorkOrder(draft, event: message("created"))
        try await store.transitionWorkOrder("WO-1", from: .created, to: .released, event: message("released"))
        // A lost race (the order is no longer `created`) and a duplicate id roll their events back with them.
        await #expect(throws: APIError.self) {
            try await store.transitionWorkOrder("WO-1", from: .created, to: .cancelled, event: message("cancelled"))
        }
        await #expect(throws: APIError.self) { _ = try await store.insertWorkOrder(draft, event: message("created-again")) }
        #expect(try await store.workOrder("WO-1")?.status == .released)
        #expect(try await store.pendingOutbox(limit: 10) == [message("created"), message("released")])
        try await store.deleteOutbox(id: "created")
        #expect(try await store.pendingOutbox(limit: 10) == [message("released")])
        await store.close()
    }

    @Test(arguments: Engine.allCases)
    func deduplicationKeysOlderThanTheWindowArePruned(_ engine: Engine) async throws {
        let (store, cleanup) = try await Self.open(engine)
        defer { cleanup() }
        let path = "\(Self.line)/press-3"
        func stop(_ id: String) -> [(String, [SQLValue])] {
            [("INSERT INTO state_changes (event_id, path, state, since) VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
              [.text(id), .text(path), .text("down"), .integer(1_000)])]
        }
        #expect(try await store.apply(eventKey: "src|old", statements: stop("old")))
        #expect(try await store.apply(eventKey: "src|new", statements: stop("new")))
        let tenDaysAgo = Millis.now() - 10 * 86_400_000
        _ = try await store.backend.run("UPDATE processed_events SET received_at = ? WHERE event_key = ?",
                                        [.integer(tenDaysAgo), .text("src|old")])
        #expect(try await store.pruneProcessedEvents(receivedBefore: Millis.now() - 7 * 86_400_000) == 1)
        #expect(try await store.processedEventCount() == 1)
        // The kept key still deduplicates; the pruned event, redelivered, is projected again without a copy.
        #expect(try await !store.apply(eventKey: "src|new", statements: stop("new")))
        #expect(try await store.apply(eventKey: "src|old", statements: stop("old")))
        #expect(try await store.stateChanges(under: path).count == 2)
        await store.close()
    }

    @Test(arguments: Engine.allCases)
    func theTreeHoldsISA95AssetsNotEdgeNodes(_ engine: Engine) async throws {
        let (store, cleanup) = try await Self.open(engine)
        defer { cleanup() }
        try await store.registerAsset(try ISA95Path.parse("\(Self.line)/press-3"))
        // `stream` names an edge node without a declared asset `<group>/<edge>`.
        try await store.registerAsset(try ISA95Path.parse("acme-dresden/gateway-1"))
        #expect(try await store.assetPaths().map(\.path) == [
            "acme", "acme/plant1", "acme/plant1/press-area", Self.line, "\(Self.line)/press-3",
        ])
        await store.close()
    }

    @Test(arguments: Engine.allCases)
    func productionWithoutAWorkOrderUsesTheMachinesCycleTime(_ engine: Engine) async throws {
        let (store, cleanup) = try await Self.open(engine)
        defer { cleanup() }
        let press = "\(Self.line)/press-3", saw = "\(Self.line)/saw-1"
        try await store.saveLatestValues([
            (press, "cycleTimeSetpoint", "4.5", "s", "good", 1),
            (saw, "cycleTimeSetpoint", "\"fast\"", nil, "good", 1),   // not a number: no cycle time
        ])
        for (id, path) in [("p1", press), ("p2", saw)] {
            _ = try await store.apply(eventKey: "src|\(id)", statements: [(
                "INSERT INTO production (event_id, path, good, scrap, total, window_start, window_end) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [.text(id), .text(path), .integer(9), .integer(1), .integer(10), .integer(0), .integer(60_000)])])
        }
        let slices = Dictionary(uniqueKeysWithValues: try await store.production(under: Self.line, from: 0, to: 120_000)
            .map { ($0.path, $0.slice) })
        #expect(slices[press] == ProductionSlice(good: 9, scrap: 1, idealCycleSeconds: 4.5))
        #expect(slices[saw] == ProductionSlice(good: 9, scrap: 1, idealCycleSeconds: nil))
        await store.close()
    }

    /// The feed prunes on its own, every `pruneInterval`, keys older than its window.
    @Test func theFeedPrunesPeriodically() async throws {
        let (store, cleanup) = try await Self.open(.sqlite)
        defer { cleanup() }
        let broker = try TestEnvironment.mqttBroker()
        var ingest = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "api-prune-\(UUID().uuidString.prefix(8))")
        ingest.makePersistent(sessionExpiry: 10)
        var logger = Logger(label: "api-prune-test")
        logger.logLevel = .critical
        let feed = UNSFeed(ingest: ingest, store: store, cache: LatestValueCache(), hub: EventHub(),
                           prefix: "p" + UUID().uuidString.prefix(8).lowercased() + "/v1", logger: logger,
                           dedupWindow: .seconds(3600), pruneInterval: .milliseconds(100))
        #expect(try await store.apply(eventKey: "src|old", statements: []))
        #expect(try await store.apply(eventKey: "src|recent", statements: []))
        _ = try await store.backend.run("UPDATE processed_events SET received_at = ? WHERE event_key = ?",
                                        [.integer(Millis.now() - 2 * 3_600_000), .text("src|old")])
        let group = ServiceGroup(configuration: .init(services: [.init(service: feed)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await poll("the old key to be pruned") { try await store.processedEventCount() == 1 }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await !store.apply(eventKey: "src|recent", statements: []))
        await store.close()
    }
}
