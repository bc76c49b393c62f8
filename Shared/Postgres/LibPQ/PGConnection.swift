import CPostgres
import Foundation

/// Owns one `PGconn*`. Only `PostgresConnection`'s serial queue touches it, so it needs no lock and is not Sendable.
final class PGConnection {
    let raw: OpaquePointer
    /// user@host:port/database, for error contexts (never the password).
    let target: String
    /// Names server-side prepared statements uniquely for this connection's lifetime.
    private var statementCounter = 0

    /// Connects (blocking: DNS, TCP, TLS, authentication). On failure frees the handle libpq still returns.
    init(configuration: PostgresConfiguration) throws {
        let parameters = configuration.libpqParameters
        target = configuration.target
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordArray: [UnsafePointer<CChar>?] = keywords.map { $0.map { UnsafePointer($0) } } + [nil]
        let valueArray: [UnsafePointer<CChar>?] = values.map { $0.map { UnsafePointer($0) } } + [nil]
        guard let connection = PQconnectdbParams(keywordArray, valueArray, 0) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection",
                                context: "connect to \(configuration.target)")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            // libpq's message names host and port and the reason; it never includes the password.
            let message = PGConnection.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(code: .connectionFailed, message: message, context: "connect to \(configuration.target)")
        }
        raw = connection
        // Without a processor libpq prints NOTICEs ("table does not exist, skipping") to stderr.
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
    }

    deinit {
        PQfinish(raw)
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown libpq error" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The connection-level error (no result available: lost connection, out of memory).
    func connectionError(_ code: PostgresError.Code, context: String) -> PostgresError {
        PostgresError(code: code, message: Self.trimmed(PQerrorMessage(raw)), context: context)
    }

    /// True while a transaction block is open (also when it failed and awaits ROLLBACK).
    var isInTransaction: Bool {
        let status = PQtransactionStatus(raw)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    func nextStatementName() -> String {
        statementCounter += 1
        return "shopfloor_\(statementCounter)"
    }

    /// Simple-query protocol: runs any number of `;`-separated statements, text results.
    @discardableResult
    func exec(_ sql: String) throws -> PGResult {
        try check(PQexec(raw, sql), context: PostgresError.sqlContext("execute", sql))
    }

    /// Extended protocol with binary parameters and binary results.
    func exec(_ sql: String, _ parameters: PGParameters) throws -> PGResult {
        let result = parameters.withCArrays { types, values, lengths, formats in
            PQexecParams(raw, sql, Int32(parameters.count), types, values, lengths, formats, 1)
        }
        return try check(result, context: PostgresError.sqlContext("query", sql))
    }

    func prepare(name: String, sql: String) throws {
        try check(PQprepare(raw, name, sql, 0, nil), context: PostgresError.sqlContext("prepare", sql))
    }

    func execPrepared(name: String, sql: String, _ parameters: PGParameters) throws -> PGResult {
        let result = parameters.withCArrays { _, values, lengths, formats in
            PQexecPrepared(raw, name, Int32(parameters.count), values, lengths, formats, 1)
        }
        return try check(result, context: PostgresError.sqlContext("execute prepared", sql))
    }

    /// Turns a result into an owned `PGResult`, or into an error carrying SQLSTATE and libpq's message.
    @discardableResult
    func check(_ result: OpaquePointer?, context: String, accept: [ExecStatusType] = [PGRES_COMMAND_OK, PGRES_TUPLES_OK]) throws -> PGResult {
        guard let result else { throw connectionError(.queryFailed, context: context) }
        let owned = PGResult(raw: result)
        guard accept.contains(PQresultStatus(result)) else { throw owned.error(.queryFailed, context: context) }
        return owned
    }
}

/// Owns one `PGresult*`; frees it on deinit. Lives only inside a queue job.
final class PGResult {
    let raw: OpaquePointer

    init(raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        PQclear(raw)
    }

    /// The server's error: libpq's full message (ERROR/DETAIL/HINT lines) and the SQLSTATE field.
    func error(_ code: PostgresError.Code, context: String) -> PostgresError {
        // PG_DIAG_SQLSTATE is the field code 'C'.
        let sqlState = PQresultErrorField(raw, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        return PostgresError(code: code, sqlState: sqlState, message: PGConnection.trimmed(PQresultErrorMessage(raw)),
                             context: context)
    }

    /// Rows changed by INSERT/UPDATE/DELETE/COPY (`PQcmdTuples`), 0 for other commands.
    var affectedRows: Int {
        PQcmdTuples(raw).flatMap { Int(String(cString: $0)) } ?? 0
    }

    /// Copies every row out of the (binary-format) result.
    func rows() -> [PostgresRow] {
        let rowCount = PQntuples(raw)
        let columnCount = PQnfields(raw)
        let columns = (0..<columnCount).map { PQfname(raw, $0).map { String(cString: $0) } ?? "?column?" }
        let types = (0..<columnCount).map { PQftype(raw, $0) }
        let binary = (0..<columnCount).map { PQfformat(raw, $0) == 1 }
        return (0..<rowCount).map { row in
            let values = (0..<columnCount).map { column -> PostgresValue in
                if PQgetisnull(raw, row, column) == 1 { return .null }
                let length = Int(PQgetlength(raw, row, column))
                let bytes = UnsafeRawBufferPointer(start: PQgetvalue(raw, row, column), count: length)
                // Simple-query results come back as text; surface them as text rather than misreading them.
                return binary[Int(column)] ? PGBinary.decode(oid: types[Int(column)], bytes)
                    : .text(String(decoding: bytes, as: UTF8.self))
            }
            return PostgresRow(columns: columns, values: values)
        }
    }
}
