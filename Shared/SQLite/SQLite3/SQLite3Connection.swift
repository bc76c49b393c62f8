import CSQLite

/// Owns one `sqlite3*`. Only `SQLiteDatabase`'s serial queue touches it, so it needs no lock and is not Sendable.
final class SQLite3Connection {
    let raw: OpaquePointer

    /// Opens the file; on failure closes the half-open handle SQLite still returns and throws its message.
    init(path: String, flags: Int32) throws {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            let extended = handle.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(handle)
            throw SQLiteError.library(.openFailed, resultCode: extended, message: message, context: "open(\"\(path)\")")
        }
        raw = handle
        sqlite3_extended_result_codes(raw, 1)
    }

    deinit {
        // close_v2 defers the close until every statement is finalized, so a statement still alive
        // (its deinit runs later on the same queue) cannot crash.
        sqlite3_close_v2(raw)
    }

    /// The current error of this connection as our error type.
    func error(_ code: SQLiteError.Code, resultCode: Int32, context: String) -> SQLiteError {
        .library(code, resultCode: sqlite3_extended_errcode(raw), message: String(cString: sqlite3_errmsg(raw)),
                 context: context)
    }

    /// Runs one or more statements with no binds and no rows (`sqlite3_exec`).
    func exec(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(raw, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard rc == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(raw))
            throw SQLiteError.library(.execFailed, resultCode: sqlite3_extended_errcode(raw), message: message,
                                      context: SQLiteError.sqlContext("execute", sql))
        }
    }
}
