import Logging

/// One forward-only schema step: applied once, in version order, recorded in `schema_migrations`.
public struct PostgresMigration: Sendable, Hashable {
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
        return String(hash, radix: 16).leftPadded(to: 16)
    }
}

extension PostgresConnection {
    /// Applies every migration not yet recorded in `schema_migrations` (in the current schema), each in its
    /// own transaction, and returns their versions.
    ///
    /// Several service instances may start at once: an advisory lock keyed on the schema makes them take turns,
    /// so each migration runs exactly once. Refuses, before applying anything, when the list is not strictly
    /// increasing, when the database holds a version the list lacks, when a recorded migration's SQL changed,
    /// or when an unapplied version is older than the newest applied one (migrations are forward-only).
    /// Each applied migration is logged at info level, so an operator sees what a deploy changed.
    @discardableResult
    public func migrate(_ migrations: [PostgresMigration], logger: Logger? = nil) async throws -> [Int64] {
        try await withSession { session in
            let lockKey = "hashtext(current_schema() || '.schema_migrations')"
            try session.execute("SELECT pg_advisory_lock(\(lockKey))")
            defer { _ = try? session.execute("SELECT pg_advisory_unlock(\(lockKey))") }
            try session.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let recorded = try session.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
                .map { (version: try $0.decode(Int64.self, at: 0), name: try $0.decode(String.self, at: 1),
                        checksum: try $0.decode(String.self, at: 2)) }
            let pending = try PostgresMigrationPlan(known: migrations, recorded: recorded).pending
            for migration in pending {
                do {
                    try session.inTransaction {
                        try session.execute(migration.sql)
                        try session.run("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                        [.int64(migration.version), .text(migration.name), .text(migration.checksum)])
                    }
                } catch let error as PostgresError {
                    throw PostgresError(code: .migrationFailed, sqlState: error.sqlState,
                                        message: "migration \(migration.version) \"\(migration.name)\" failed and was rolled back: \(error.message)",
                                        context: "migrate")
                }
                logger?.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
            return pending.map(\.version)
        }
    }
}

/// The rules every migration run checks, free of I/O so they read as the rules they are.
struct PostgresMigrationPlan {
    let pending: [PostgresMigration]

    init(known: [PostgresMigration], recorded: [(version: Int64, name: String, checksum: String)]) throws {
        for (previous, next) in zip(known, known.dropFirst()) where next.version <= previous.version {
            throw PostgresError(code: .invalidMigrations,
                                message: "migration versions must strictly increase; \(next.version) \"\(next.name)\" follows \(previous.version) \"\(previous.name)\"",
                                context: "migrate")
        }
        let byVersion = Dictionary(known.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        for applied in recorded {
            guard let migration = byVersion[applied.version] else {
                throw PostgresError(code: .unknownMigration,
                                    message: "the database has migration \(applied.version) \"\(applied.name)\", which this program does not know (it knows \(known.map(\.version))); it was migrated by a newer version",
                                    context: "migrate")
            }
            guard migration.checksum == applied.checksum else {
                throw PostgresError(code: .migrationChanged,
                                    message: "migration \(applied.version) \"\(applied.name)\" was changed after it was applied (checksum \(applied.checksum) recorded, \(migration.checksum) now); add a new migration instead of editing an applied one",
                                    context: "migrate")
            }
        }
        let appliedVersions = Set(recorded.map(\.version))
        let pending = known.filter { !appliedVersions.contains($0.version) }
        if let newestApplied = recorded.map(\.version).max(),
           let stale = pending.first(where: { $0.version < newestApplied }) {
            throw PostgresError(code: .migrationOutOfOrder,
                                message: "migration \(stale.version) \"\(stale.name)\" is not applied but \(newestApplied) already is; migrations are forward-only, give it a version above \(newestApplied)",
                                context: "migrate")
        }
        self.pending = pending
    }
}
