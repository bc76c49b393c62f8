import Logging

/// One forward-only schema step: applied once, in version order, recorded in `schema_migrations`.
public struct SQLiteMigration: Sendable, Hashable {
    public let version: Int64
    public let name: String
    public let sql: String

    public init(version: Int64, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// FNV-1a 64 of the SQL text, hex. It detects an edited migration; it is not meant to resist tampering.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension SQLiteDatabase {
    /// Applies every migration not yet recorded, each in its own transaction, and returns their versions.
    ///
    /// Refuses, before applying anything, when the list is not strictly increasing, when the database holds a
    /// version the list lacks (a newer program migrated it), when a recorded migration's SQL changed, or when
    /// an unapplied version is older than the newest applied one (migrations are forward-only).
    /// Each applied migration is logged at info level, so an operator sees what a deploy changed.
    @discardableResult
    public func migrate(_ migrations: [SQLiteMigration], logger: Logger? = nil) async throws -> [Int64] {
        try await withSession { session in
            try session.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    -- unix seconds; unixepoch('subsec') needs SQLite 3.42, Debian 12 ships 3.40
                    applied_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
                )
                """)
            let recorded = try session.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
                .map { (version: try $0.decode(Int64.self, at: 0), name: try $0.decode(String.self, at: 1),
                        checksum: try $0.decode(String.self, at: 2)) }
            let plan = try MigrationPlan(
                known: migrations.map { ($0.version, $0.name, $0.checksum) },
                recorded: recorded.map { ($0.version, $0.name, $0.checksum) })
            let pending = migrations.filter { plan.pending.contains($0.version) }
            for migration in pending {
                do {
                    try session.inTransaction {
                        try session.execute(migration.sql)
                        try session.run("INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                                        [.integer(migration.version), .text(migration.name), .text(migration.checksum)])
                    }
                } catch let error as SQLiteError {
                    throw SQLiteError(code: .migrationFailed, resultCode: error.resultCode,
                                      message: "migration \(migration.version) \"\(migration.name)\" failed and was rolled back: \(error.message)",
                                      context: "migrate")
                }
                logger?.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
            return pending.map(\.version)
        }
    }
}

/// The checks shared by every migration run, kept free of I/O so they read as the rules they are.
struct MigrationPlan {
    let pending: Set<Int64>

    init(known: [(version: Int64, name: String, checksum: String)],
         recorded: [(version: Int64, name: String, checksum: String)]) throws {
        for (previous, next) in zip(known, known.dropFirst()) where next.version <= previous.version {
            throw SQLiteError(code: .invalidMigrations,
                              message: "migration versions must strictly increase; \(next.version) \"\(next.name)\" follows \(previous.version) \"\(previous.name)\"",
                              context: "migrate")
        }
        let byVersion = Dictionary(known.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        for applied in recorded {
            guard let migration = byVersion[applied.version] else {
                throw SQLiteError(code: .unknownMigration,
                                  message: "the database has migration \(applied.version) \"\(applied.name)\", which this program does not know (it knows \(known.map(\.version))); it was migrated by a newer version",
                                  context: "migrate")
            }
            guard migration.checksum == applied.checksum else {
                throw SQLiteError(code: .migrationChanged,
                                  message: "migration \(applied.version) \"\(applied.name)\" was changed after it was applied (checksum \(applied.checksum) recorded, \(migration.checksum) now); add a new migration instead of editing an applied one",
                                  context: "migrate")
            }
        }
        let appliedVersions = Set(recorded.map(\.version))
        let newestApplied = recorded.map(\.version).max()
        let pending = known.filter { !appliedVersions.contains($0.version) }
        if let newestApplied, let stale = pending.first(where: { $0.version < newestApplied }) {
            throw SQLiteError(code: .migrationOutOfOrder,
                              message: "migration \(stale.version) \"\(stale.name)\" is not applied but \(newestApplied) already is; migrations are forward-only, give it a version above \(newestApplied)",
                              context: "migrate")
        }
        self.pending = Set(pending.map(\.version))
    }
}
