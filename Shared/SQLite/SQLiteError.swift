import CSQLite
import Foundation

/// The one error type of the `SQLite` module.
///
/// `code` is stable and meant for `switch`; `resultCode` is SQLite's extended result code when the error came
/// from the library, `message` is `sqlite3_errmsg` (or our own text), and `context` says which operation failed.
/// Bound values never appear in the description; SQL is shortened to its first 80 characters.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; stable across releases.
    public enum Code: String, Sendable {
        case openFailed
        case invalidConfiguration
        case prepareFailed
        case bindFailed
        case stepFailed
        case execFailed
        case constraintViolation
        case busy
        case typeMismatch
        case columnNotFound
        case closed
        case invalidMigrations
        case unknownMigration
        case migrationChanged
        case migrationOutOfOrder
        case migrationFailed
    }

    public let code: Code
    /// SQLite's extended result code (e.g. 2067 for `SQLITE_CONSTRAINT_UNIQUE`), nil when SQLite was not involved.
    public let resultCode: Int32?
    /// The library's own message (`sqlite3_errmsg`) or ours.
    public let message: String
    /// Where it was thrown: the operation and, for statements, the start of the SQL.
    public let context: String

    public init(code: Code, resultCode: Int32? = nil, message: String, context: String) {
        self.code = code
        self.resultCode = resultCode
        self.message = message
        self.context = context
    }

    /// The primary result code (`SQLITE_CONSTRAINT` = 19 for every constraint variant).
    public var primaryResultCode: Int32? { resultCode.map { $0 & 0xff } }

    public var description: String {
        var text = "SQLite \(code.rawValue) in \(context): \(message)"
        if let resultCode {
            text += " (result code \(resultCode): \(String(cString: sqlite3_errstr(resultCode))))"
        }
        return text
    }
}

extension SQLiteError {
    /// Builds an error from a failed SQLite call; the code follows the primary result code so callers can
    /// tell constraint violations and lock timeouts from other step failures.
    static func library(_ code: Code, resultCode: Int32, message: String, context: String) -> SQLiteError {
        let primary = resultCode & 0xff
        let refined: Code
        switch primary {
        case SQLITE_CONSTRAINT: refined = .constraintViolation
        case SQLITE_BUSY, SQLITE_LOCKED: refined = .busy
        default: refined = code
        }
        return SQLiteError(code: refined, resultCode: resultCode, message: message, context: context)
    }

    /// Shortens SQL for a context string: enough to find the statement, never a whole script.
    static func sqlContext(_ operation: String, _ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        let short = flat.count > 80 ? String(flat.prefix(80)) + "…" : flat
        return "\(operation)(\"\(short)\")"
    }
}
