import Logging
import Migrations

/// One forward-only schema step (see `Migration`).
public typealias PostgresMigration = Migration

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
                .map { AppliedMigration(version: try $0.decode(Int64.self, at: 0), name: try $0.decode(String.self, at: 1),
                                        checksum: try $0.decode(String.self, at: 2)) }
            let pending = try PostgresError.planning(migrations, recorded: recorded)
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

extension PostgresError {
    /// The pending migrations, or the plan's refusal as a `PostgresError` with the same code.
    static func planning(_ migrations: [Migration], recorded: [AppliedMigration]) throws(PostgresError) -> [Migration] {
        do {
            return try MigrationPlan(known: migrations, recorded: recorded).pending
        } catch {
            let code: Code = switch error.code {
            case .invalidMigrations: .invalidMigrations
            case .unknownMigration: .unknownMigration
            case .migrationChanged: .migrationChanged
            case .migrationOutOfOrder: .migrationOutOfOrder
            }
            throw PostgresError(code: code, sqlState: nil, message: error.message, context: "migrate")
        }
    }
}
