import CSQLite

/// The synchronous face of a connection, handed to `withSession` and `transaction` bodies.
///
/// Its calls block; that is fine because the body runs on the connection's own queue, never on Swift's
/// cooperative pool. Not Sendable: it must not leave the body.
public final class SQLiteSession {
    let connection: SQLite3Connection

    init(connection: SQLite3Connection) {
        self.connection = connection
    }

    /// Runs one or more `;`-separated statements that take no binds (DDL, PRAGMAs, scripts).
    public func execute(_ sql: String) throws {
        try connection.exec(sql)
    }

    /// Prepares a statement for repeated use with different binds.
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        try SQLiteStatement(connection: connection, sql: sql)
    }

    /// Runs one statement with binds and returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ binds: [SQLiteValue] = []) throws -> Int {
        try prepare(sql).run(binds)
    }

    /// Runs one statement with binds and returns its rows.
    public func query(_ sql: String, _ binds: [SQLiteValue] = []) throws -> [SQLiteRow] {
        try prepare(sql).query(binds)
    }

    /// Rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(connection.raw) }

    /// True while a transaction is open (autocommit off).
    public var isInTransaction: Bool { sqlite3_get_autocommit(connection.raw) == 0 }
}

@available(*, unavailable, message: "a session belongs to its connection's queue")
extension SQLiteSession: Sendable {}
