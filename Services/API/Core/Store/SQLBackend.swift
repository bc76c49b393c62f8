import Foundation
import Logging
import Migrations
import Postgres
import SQLite

/// One value bound to or read from the api's store, whichever engine holds it.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// The value as an integer, when it is one (PostgreSQL and SQLite both hand back 64-bit integers).
    var int: Int64? {
        switch self {
        case .integer(let value): value
        case .real(let value): Int64(exactly: value.rounded())
        default: nil
        }
    }

    /// The value as a number.
    var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .real(let value): value
        default: nil
        }
    }

    /// The value as text.
    var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

/// The SQL the api needs from a store engine. Statements use `?` placeholders and the portable subset both
/// engines accept (TEXT, BIGINT, DOUBLE PRECISION, `ON CONFLICT … DO NOTHING/UPDATE`), so the store's queries
/// are written once; the PostgreSQL backend numbers the placeholders.
public protocol SQLBackend: Sendable {
    /// Runs a statement that returns rows.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]]
    /// Runs a statement and returns the number of rows it changed.
    func run(_ sql: String, _ binds: [SQLValue]) async throws -> Int
    /// Runs `statements` in one transaction; each entry's changed-row count is returned.
    func transaction(_ statements: [(String, [SQLValue])]) async throws -> [Int]
    /// Like `transaction`, but rolls everything back and returns nil when the first statement changes no row
    /// (a guarded insert or update that lost a race), so what follows it commits only together with it.
    func transactionIfFirstChanges(_ statements: [(String, [SQLValue])]) async throws -> [Int]?
    /// Applies the forward-only migrations.
    func migrate(_ migrations: [Migration], logger: Logger) async throws
    /// Closes the connection.
    func close() async
}

/// Where the api keeps its data: `sqlite:PATH` (default `sqlite:api.db`) or `postgres://…`.
public enum StoreLocation: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresConfiguration, schema: String?)

    /// Parses `sqlite:PATH` or `postgres://user[:password]@host[:port]/db`.
    public init(parsing text: String) throws(APIError) {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else {
                throw APIError(.invalidConfiguration, "--store \"\(text)\": sqlite:PATH needs a non-empty PATH")
            }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            do {
                self = .postgres(try PostgresConfiguration(url: text), schema: nil)
            } catch {
                throw APIError(.invalidConfiguration, "--store is not a valid PostgreSQL URL: \(error)")
            }
        } else {
            throw APIError(.invalidConfiguration,
                           "--store must be sqlite:PATH or postgres://user[:password]@host[:port]/database")
        }
    }

    /// Safe to log: no password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let configuration, let schema): "\(configuration)" + (schema.map { " schema \($0)" } ?? "")
        }
    }

    /// Opens the engine.
    public func open() async throws -> any SQLBackend {
        switch self {
        case .sqlite(let path):
            let database = try await SQLiteDatabase.open(SQLiteConfiguration(path: path))
            return SQLiteBackend(database: database)
        case .postgres(let configuration, let schema):
            let connection = try await PostgresConnection.connect(configuration)
            if let schema {
                // Tests isolate themselves in a schema of their own; names are checked, not quoted blindly.
                guard schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw APIError(.invalidConfiguration, "schema \"\(schema)\" may hold letters, digits and _ only")
                }
                try await connection.execute("CREATE SCHEMA IF NOT EXISTS \(schema); SET search_path TO \(schema)")
            }
            return PostgresBackend(connection: connection)
        }
    }
}

/// The SQLite engine: one connection on its own serial queue (see `SQLiteDatabase`).
struct SQLiteBackend: SQLBackend {
    let database: SQLiteDatabase

    private static func binds(_ values: [SQLValue]) -> [SQLiteValue] {
        values.map {
            switch $0 {
            case .null: .null
            case .integer(let value): .integer(value)
            case .real(let value): .real(value)
            case .text(let value): .text(value)
            }
        }
    }

    private static func row(_ row: SQLiteRow) -> [SQLValue] {
        row.values.map {
            switch $0 {
            case .null: .null
            case .integer(let value): .integer(value)
            case .real(let value): .real(value)
            case .text(let value): .text(value)
            case .blob(let bytes): .text(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]] {
        try await database.query(sql, Self.binds(binds)).map(Self.row)
    }

    func run(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        try await database.run(sql, Self.binds(binds))
    }

    func transaction(_ statements: [(String, [SQLValue])]) async throws -> [Int] {
        let converted = statements.map { ($0.0, Self.binds($0.1)) }
        return try await database.transaction { session in
            try converted.map { try session.run($0.0, $0.1) }
        }
    }

    func transactionIfFirstChanges(_ statements: [(String, [SQLValue])]) async throws -> [Int]? {
        let converted = statements.map { ($0.0, Self.binds($0.1)) }
        do {
            return try await database.transaction { session in
                try converted.enumerated().map { index, statement in
                    let count = try session.run(statement.0, statement.1)
                    if index == 0 && count == 0 { throw FirstStatementChangedNothing() }
                    return count
                }
            }
        } catch is FirstStatementChangedNothing {
            return nil
        }
    }

    func migrate(_ migrations: [Migration], logger: Logger) async throws {
        try await database.migrate(migrations, logger: logger)
    }

    func close() async { await database.close() }
}

/// The PostgreSQL engine: one libpq connection on its own thread (see `PostgresConnection`).
struct PostgresBackend: SQLBackend {
    let connection: PostgresConnection

    /// `?` → `$1, $2 …`; the store's SQL never has `?` inside a literal.
    static func numbered(_ sql: String) -> String {
        var result = ""
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                result += "$\(index)"
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func binds(_ values: [SQLValue]) -> [PostgresValue] {
        values.map {
            switch $0 {
            case .null: .null
            case .integer(let value): .int64(value)
            case .real(let value): .double(value)
            case .text(let value): .text(value)
            }
        }
    }

    private static func row(_ row: PostgresRow) -> [SQLValue] {
        row.values.map {
            switch $0 {
            case .null, .unsupported: .null
            case .int64(let value): .integer(value)
            case .double(let value): .real(value)
            case .text(let value): .text(value)
            case .bytes(let bytes): .text(String(decoding: bytes, as: UTF8.self))
            case .bool(let value): .integer(value ? 1 : 0)
            case .date(let date): .integer(Int64(date.timeIntervalSince1970 * 1000))
            }
        }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]] {
        try await connection.query(Self.numbered(sql), Self.binds(binds)).map(Self.row)
    }

    func run(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
        try await connection.run(Self.numbered(sql), Self.binds(binds))
    }

    func transaction(_ statements: [(String, [SQLValue])]) async throws -> [Int] {
        let converted = statements.map { (Self.numbered($0.0), Self.binds($0.1)) }
        return try await connection.transaction { session in
            try converted.map { try session.run($0.0, $0.1) }
        }
    }

    func transactionIfFirstChanges(_ statements: [(String, [SQLValue])]) async throws -> [Int]? {
        let converted = statements.map { (Self.numbered($0.0), Self.binds($0.1)) }
        do {
            return try await connection.transaction { session in
                try converted.enumerated().map { index, statement in
                    let count = try session.run(statement.0, statement.1)
                    if index == 0 && count == 0 { throw FirstStatementChangedNothing() }
                    return count
                }
            }
        } catch is FirstStatementChangedNothing {
            return nil
        }
    }

    func migrate(_ migrations: [Migration], logger: Logger) async throws {
        try await connection.migrate(migrations, logger: logger)
    }

    func close() async { await connection.close() }
}

/// Thrown inside a transaction to roll it back when its guarding first statement changed nothing; never
/// leaves `transactionIfFirstChanges`.
private struct FirstStatementChangedNothing: Error {}
