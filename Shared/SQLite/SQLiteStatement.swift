import CSQLite

/// A prepared statement, reusable with new binds; valid only inside the `SQLiteSession` body that made it.
///
/// Not Sendable: it lives on the connection's queue with its connection.
public final class SQLiteStatement {
    private let raw: OpaquePointer
    // Strong reference: the connection must stay open until this statement is finalized.
    private let connection: SQLite3Connection
    private let sql: String
    /// Column names, read once: they never change for a prepared statement.
    public let columns: [String]

    init(connection: SQLite3Connection, sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection.raw, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw connection.error(.prepareFailed, resultCode: rc, context: SQLiteError.sqlContext("prepare", sql))
        }
        raw = statement
        self.connection = connection
        self.sql = sql
        let count = sqlite3_column_count(statement)
        columns = (0..<count).map { index in
            sqlite3_column_name(statement, index).map { String(cString: $0) } ?? "column\(index)"
        }
    }

    deinit {
        sqlite3_finalize(raw)
    }

    /// Number of `?` parameters the statement expects.
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(raw)) }

    /// Resets the statement and binds one value per parameter, in order.
    public func bind(_ values: [SQLiteValue]) throws {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
        guard values.count == parameterCount else {
            throw SQLiteError(code: .bindFailed,
                              message: "statement has \(parameterCount) parameters but \(values.count) values were given",
                              context: SQLiteError.sqlContext("bind", sql))
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(raw, index)
            case .integer(let int): rc = sqlite3_bind_int64(raw, index, int)
            case .real(let double): rc = sqlite3_bind_double(raw, index, double)
            case .text(let text):
                // TRANSIENT: SQLite copies the bytes, because the Swift buffer dies when this closure returns.
                var text = text
                rc = text.withUTF8 { utf8 -> Int32 in
                    guard let base = utf8.baseAddress, utf8.count > 0 else {
                        // An empty string must bind as '' (a nil pointer would bind NULL).
                        return sqlite3_bind_text(raw, index, "", 0, shopfloor_sqlite_transient())
                    }
                    return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                        sqlite3_bind_text64(raw, index, $0, sqlite3_uint64(utf8.count), shopfloor_sqlite_transient(),
                                            UInt8(SQLITE_UTF8))
                    }
                }
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { buffer in
                    // A nil pointer would bind NULL; zero-length blobs must stay blobs.
                    sqlite3_bind_blob64(raw, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                                        sqlite3_uint64(buffer.count), shopfloor_sqlite_transient())
                }
            }
            guard rc == SQLITE_OK else {
                throw connection.error(.bindFailed, resultCode: rc,
                                       context: SQLiteError.sqlContext("bind parameter \(index) of", sql))
            }
        }
    }

    /// Binds, steps to completion and returns the number of rows changed.
    @discardableResult
    public func run(_ values: [SQLiteValue] = []) throws -> Int {
        try bind(values)
        while try step() {}
        return Int(sqlite3_changes64(connection.raw))
    }

    /// Binds, steps to completion and returns every row.
    public func query(_ values: [SQLiteValue] = []) throws -> [SQLiteRow] {
        try bind(values)
        var rows: [SQLiteRow] = []
        while try step() {
            rows.append(SQLiteRow(columns: columns, values: currentValues()))
        }
        return rows
    }

    /// One `sqlite3_step`: true while there is a row to read.
    private func step() throws -> Bool {
        let rc = sqlite3_step(raw)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(raw)
            return false
        default:
            let error = connection.error(.stepFailed, resultCode: rc, context: SQLiteError.sqlContext("step", sql))
            sqlite3_reset(raw)
            throw error
        }
    }

    /// Copies the current row out: SQLite's column pointers die at the next step.
    private func currentValues() -> [SQLiteValue] {
        (0..<Int32(columns.count)).map { index in
            switch sqlite3_column_type(raw, index) {
            case SQLITE_INTEGER: return .integer(sqlite3_column_int64(raw, index))
            case SQLITE_FLOAT: return .real(sqlite3_column_double(raw, index))
            case SQLITE_TEXT:
                let count = Int(sqlite3_column_bytes(raw, index))
                guard let text = sqlite3_column_text(raw, index) else { return .text("") }
                return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(raw, index))
                guard let blob = sqlite3_column_blob(raw, index), count > 0 else { return .blob([]) }
                return .blob([UInt8](UnsafeRawBufferPointer(start: blob, count: count)))
            default: return .null
            }
        }
    }
}

@available(*, unavailable, message: "a statement belongs to its connection's queue")
extension SQLiteStatement: Sendable {}
