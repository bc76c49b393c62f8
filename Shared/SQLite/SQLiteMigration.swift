import Logging
import Migrations

/// One forward-only schema step (see `Migration`).
public typealias SQLiteMigration = Migration

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
                .map { AppliedMigration(version: try $0.decode(Int64.self, at: 0), name: try $0.decode(String.self, at: 1),
                                        checksum: try $0.decode(String.self, at: 2)) }
            let pending = try SQLiteError.planning(migrations, recorded: recorded)
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

extension SQLiteError {
    /// The pending migrations, or the plan's refusal as a `SQLiteError` with the same code.
    static func planning(_ migrations: [Migration], recorded: [AppliedMigration]) throws(SQLiteError) -> [Migration] {
        do {
            return try MigrationPlan(known: migrations, recorded: recorded).pending
        } catch {
            let code: Code = switch error.code {
            case .invalidMigrations: .invalidMigrations
            case .unknownMigration: .unknownMigration
            case .migrationChanged: .migrationChanged
            case .migrationOutOfOrder: .migrationOutOfOrder
            }
            throw SQLiteError(code: code, resultCode: nil, message: error.message, context: "migrate")
        }
    }
}
