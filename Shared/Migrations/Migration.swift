/// One forward-only schema step: applied once, in version order, recorded in `schema_migrations` with a
/// checksum of its SQL. The same value serves every store (`SQLite`, `Postgres`); each applies it in its own
/// transaction.
public struct Migration: Sendable, Hashable {
    public let version: Int64
    public let name: String
    public let sql: String

    public init(version: Int64, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// FNV-1a 64 of the SQL text, 16 hex digits. It detects an edited migration; it is not meant to resist
    /// tampering.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// A migration a store has recorded as applied.
public struct AppliedMigration: Sendable, Hashable {
    public let version: Int64
    public let name: String
    public let checksum: String

    public init(version: Int64, name: String, checksum: String) {
        self.version = version
        self.name = name
        self.checksum = checksum
    }
}

/// Why a list of migrations cannot be applied to a database; each store wraps it in its own error type.
public struct MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The program's list is not strictly increasing.
        case invalidMigrations
        /// The database has a version the program does not know: a newer program migrated it.
        case unknownMigration
        /// An applied migration's SQL was edited afterwards.
        case migrationChanged
        /// An unapplied migration is older than the newest applied one.
        case migrationOutOfOrder
    }

    public let code: Code
    public let message: String

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The rules every migration run checks before it applies anything, free of I/O so they read as the rules
/// they are.
public struct MigrationPlan: Sendable {
    /// The migrations still to apply, in order.
    public let pending: [Migration]

    public init(known: [Migration], recorded: [AppliedMigration]) throws(MigrationError) {
        for (previous, next) in zip(known, known.dropFirst()) where next.version <= previous.version {
            throw MigrationError(code: .invalidMigrations,
                                 message: "migration versions must strictly increase; \(next.version) \"\(next.name)\" follows \(previous.version) \"\(previous.name)\"")
        }
        let byVersion = Dictionary(known.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        for applied in recorded {
            guard let migration = byVersion[applied.version] else {
                throw MigrationError(code: .unknownMigration,
                                     message: "the database has migration \(applied.version) \"\(applied.name)\", which this program does not know (it knows \(known.map(\.version))); it was migrated by a newer version")
            }
            guard migration.checksum == applied.checksum else {
                throw MigrationError(code: .migrationChanged,
                                     message: "migration \(applied.version) \"\(applied.name)\" was changed after it was applied (checksum \(applied.checksum) recorded, \(migration.checksum) now); add a new migration instead of editing an applied one")
            }
        }
        let appliedVersions = Set(recorded.map(\.version))
        let pending = known.filter { !appliedVersions.contains($0.version) }
        if let newestApplied = recorded.map(\.version).max(),
           let stale = pending.first(where: { $0.version < newestApplied }) {
            throw MigrationError(code: .migrationOutOfOrder,
                                 message: "migration \(stale.version) \"\(stale.name)\" is not applied but \(newestApplied) already is; migrations are forward-only, give it a version above \(newestApplied)")
        }
        self.pending = pending
    }
}
