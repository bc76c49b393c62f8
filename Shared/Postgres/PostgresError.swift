import Foundation

/// The one error type of the `Postgres` module.
///
/// `code` is stable and meant for `switch`; `sqlState` is PostgreSQL's five-character SQLSTATE when the server
/// reported the error (`23505` unique violation, `42601` syntax error); `message` is libpq's own text
/// (`PQresultErrorMessage` / `PQerrorMessage`); `context` says which operation failed. Descriptions never
/// contain the password or a connection string: connection errors name only host, port, user and database.
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; stable across releases.
    public enum Code: String, Sendable {
        case connectionFailed
        case invalidConfiguration
        case queryFailed
        case copyFailed
        case typeMismatch
        case columnNotFound
        case unsupportedType
        case closed
        case invalidMigrations
        case unknownMigration
        case migrationChanged
        case migrationOutOfOrder
        case migrationFailed
    }

    public let code: Code
    /// SQLSTATE from the server, nil for client-side failures.
    public let sqlState: String?
    public let message: String
    public let context: String

    public init(code: Code, sqlState: String? = nil, message: String, context: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.context = context
    }

    /// SQLSTATE 23505: the row would duplicate a unique key (callers often treat this as "already there").
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        var text = "Postgres \(code.rawValue) in \(context): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

    /// Shortens SQL for a context string: enough to find the statement, never a whole script.
    static func sqlContext(_ operation: String, _ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        let short = flat.count > 80 ? String(flat.prefix(80)) + "…" : flat
        return "\(operation)(\"\(short)\")"
    }
}
