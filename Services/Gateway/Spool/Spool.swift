import Logging
import SQLite
import Synchronization

/// The store-and-forward spool: DATA payloads produced while the broker is unreachable, in a SQLite file so
/// they survive a gateway restart. Bounded by `maxMessages`: when full, the oldest entries are dropped (and
/// counted) to make room, since the newest data is what an operator needs first after an outage.
/// Entries are removed one by one as they are replayed, so nothing is replayed twice.
final class Spool: Sendable {
    /// One spooled DATA message.
    struct Entry: Sendable, Equatable {
        var id: Int64
        var device: String
        var payload: [UInt8]
    }

    static let migrations = [
        SQLiteMigration(version: 1, name: "spool", sql: """
            CREATE TABLE spool (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                device TEXT NOT NULL,
                payload BLOB NOT NULL
            )
            """),
    ]

    private let database: SQLiteDatabase
    let maxMessages: Int
    /// Entries in the file; kept here so `/metrics` and NDATA read it without a query.
    private let count: Mutex<Int>

    private init(database: SQLiteDatabase, maxMessages: Int, count: Int) {
        self.database = database
        self.maxMessages = maxMessages
        self.count = Mutex(count)
    }

    /// Opens (or creates) the spool file.
    static func open(path: String, maxMessages: Int, logger: Logger) async throws -> Spool {
        let database = try await SQLiteDatabase.open(SQLiteConfiguration(path: path))
        try await database.migrate(migrations, logger: logger)
        let rows = try await database.query("SELECT count(*) FROM spool")
        let count = try rows.first?.decode(Int64.self, at: 0) ?? 0
        return Spool(database: database, maxMessages: maxMessages, count: Int(count))
    }

    /// Entries waiting for replay.
    var depth: Int { count.withLock { $0 } }

    /// Appends a payload; returns how many old entries were dropped to stay within `maxMessages`.
    func append(device: String, payload: [UInt8]) async throws -> Int {
        let limit = maxMessages
        let (dropped, total) = try await database.transaction { session -> (Int, Int) in
            _ = try session.run("INSERT INTO spool (device, payload) VALUES (?, ?)", [.text(device), .blob(payload)])
            let total = try session.query("SELECT count(*) FROM spool").first?.decode(Int64.self, at: 0) ?? 0
            let excess = Int(total) - limit
            if excess > 0 {
                _ = try session.run("DELETE FROM spool WHERE id IN (SELECT id FROM spool ORDER BY id LIMIT ?)",
                                    [.integer(Int64(excess))])
                return (excess, limit)
            }
            return (0, Int(total))
        }
        count.withLock { $0 = total }
        return dropped
    }

    /// The oldest `limit` entries, in the order they were spooled.
    func oldest(_ limit: Int) async throws -> [Entry] {
        try await database.query("SELECT id, device, payload FROM spool ORDER BY id LIMIT ?", [.integer(Int64(limit))])
            .map { row in
                Entry(id: try row.decode(Int64.self, at: 0), device: try row.decode(String.self, at: 1),
                      payload: try row.decode([UInt8].self, at: 2))
            }
    }

    /// Removes a replayed entry.
    func remove(_ id: Int64) async throws {
        let removed = try await database.run("DELETE FROM spool WHERE id = ?", [.integer(id)])
        count.withLock { $0 = max(0, $0 - removed) }
    }

    /// Closes the file.
    func close() async { await database.close() }
}
