/// The synchronous face of a connection, handed to `withSession` and `transaction` bodies.
///
/// Its calls block on the network; that is fine because the body runs on the connection's own queue, never
/// on Swift's cooperative pool. Not Sendable: it must not leave the body.
public final class PostgresSession {
    let connection: PGConnection

    init(connection: PGConnection) {
        self.connection = connection
    }

    /// Runs one or more `;`-separated statements without binds (DDL, scripts), in the simple-query protocol.
    public func execute(_ sql: String) throws {
        try connection.exec(sql)
    }

    /// Runs one statement with `$1, $2 …` binds and returns the rows it changed.
    @discardableResult
    public func run(_ sql: String, _ binds: [PostgresValue] = []) throws -> Int {
        try connection.exec(sql, PGParameters(binds)).affectedRows
    }

    /// Runs one statement with `$1, $2 …` binds and returns its rows.
    public func query(_ sql: String, _ binds: [PostgresValue] = []) throws -> [PostgresRow] {
        try connection.exec(sql, PGParameters(binds)).rows()
    }

    /// Prepares a statement on the server for repeated execution with different binds.
    public func prepare(_ sql: String) throws -> PostgresStatement {
        let name = connection.nextStatementName()
        try connection.prepare(name: name, sql: sql)
        return PostgresStatement(connection: connection, name: name, sql: sql)
    }

    /// True while a transaction block is open.
    public var isInTransaction: Bool { connection.isInTransaction }

    /// BEGIN / COMMIT around `body`, ROLLBACK on any error; the original error is rethrown.
    func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if isInTransaction { _ = try? execute("ROLLBACK") }
            throw error
        }
    }
}

@available(*, unavailable, message: "a session belongs to its connection's queue")
extension PostgresSession: Sendable {}

/// A server-side prepared statement; valid only inside the session body that made it.
///
/// Its parameter types are fixed by the server at prepare time, so binds are sent in text/binary as for
/// `query`, and the server converts where it can. Deallocated on the server when this object dies.
public final class PostgresStatement {
    // Strong reference: the connection must stay open until DEALLOCATE ran.
    private let connection: PGConnection
    private let name: String
    private let sql: String

    init(connection: PGConnection, name: String, sql: String) {
        self.connection = connection
        self.name = name
        self.sql = sql
    }

    deinit {
        // Runs on the connection's queue (the statement cannot leave it). In an aborted transaction this
        // fails; the statement then lives until the connection closes, which is harmless: names never repeat.
        _ = try? connection.exec("DEALLOCATE \(name)")
    }

    /// Executes with binds and returns the rows changed.
    @discardableResult
    public func run(_ binds: [PostgresValue] = []) throws -> Int {
        try connection.execPrepared(name: name, sql: sql, PGParameters(binds)).affectedRows
    }

    /// Executes with binds and returns the rows.
    public func query(_ binds: [PostgresValue] = []) throws -> [PostgresRow] {
        try connection.execPrepared(name: name, sql: sql, PGParameters(binds)).rows()
    }
}

@available(*, unavailable, message: "a statement belongs to its connection's queue")
extension PostgresStatement: Sendable {}
