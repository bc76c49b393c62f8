import CPostgres
import Foundation

/// Wire format of a COPY FROM STDIN stream.
public enum PostgresCopyFormat: String, Sendable, Hashable {
    /// Tab-separated text; the server parses every value, any column type works.
    case text
    /// PostgreSQL's binary tuple format; values must match the column types exactly, so the library looks
    /// them up first and encodes int2/int4/int8, float4/float8, bool, text types, bytea, json(b), timestamps.
    case binary
}

/// Bulk loading: COPY FROM STDIN (text or binary) and multi-row INSERT with binary parameters.
extension PostgresSession {
    /// Loads rows by the fastest path measured (docs/benchmarks-store.md): binary COPY. Atomic.
    ///
    /// With `ignoringDuplicates`, rows go by COPY into a temporary staging table and on with
    /// `INSERT … SELECT … ON CONFLICT DO NOTHING` (COPY itself cannot skip duplicates), so redelivered samples
    /// keyed by (series, timestamp) load idempotently; the result counts only new rows.
    @discardableResult
    public func bulkLoad(into table: String, schema: String? = nil, columns: [String],
                         rows: [[PostgresValue]], ignoringDuplicates: Bool = false) throws -> Int {
        guard ignoringDuplicates else {
            return try copy(into: table, schema: schema, columns: columns, rows: rows, format: .binary)
        }
        let qualified = qualifiedName(table, schema: schema)
        // Unique per connection, so two loads in one transaction never collide.
        let staging = "stage_\(connection.nextStatementName())"
        let columnList = columns.map(quoteIdentifier).joined(separator: ", ")
        let body = { () throws -> Int in
            // LIKE copies column types only (no constraints), so duplicates within the batch are fine too.
            try self.execute("CREATE TEMPORARY TABLE \(staging) (LIKE \(qualified)) ON COMMIT DROP")
            try self.copy(into: staging, schema: "pg_temp", columns: columns, rows: rows, format: .binary)
            let inserted = try self.run("INSERT INTO \(qualified) (\(columnList)) SELECT \(columnList) FROM pg_temp.\(staging) ON CONFLICT DO NOTHING")
            try self.execute("DROP TABLE pg_temp.\(staging)")
            return inserted
        }
        return isInTransaction ? try body() : try inTransaction(body)
    }

    /// `COPY table (columns) FROM STDIN`: one statement, one round trip, atomic (all rows or none).
    @discardableResult
    public func copy(into table: String, schema: String? = nil, columns: [String], rows: [[PostgresValue]],
                     format: PostgresCopyFormat = .binary) throws -> Int {
        let qualified = qualifiedName(table, schema: schema)
        let context = "copy into \(qualified)"
        let types = format == .binary ? try columnTypes(of: qualified, columns: columns) : []
        let columnList = columns.map(quoteIdentifier).joined(separator: ", ")
        try connection.check(PQexec(connection.raw, "COPY \(qualified) (\(columnList)) FROM STDIN (FORMAT \(format.rawValue))"),
                             context: context, accept: [PGRES_COPY_IN])
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.copyChunkBytes + 4096)
        do {
            if format == .binary {
                // Signature, flags (no OIDs), header extension length.
                buffer.append(contentsOf: Array("PGCOPY\n".utf8) + [0xff, 0x0d, 0x0a, 0x00])
                PGBinary.append(Int32(0), to: &buffer)
                PGBinary.append(Int32(0), to: &buffer)
            }
            for (number, row) in rows.enumerated() {
                guard row.count == columns.count else {
                    throw PostgresError(code: .copyFailed,
                                        message: "row \(number) has \(row.count) values for \(columns.count) columns",
                                        context: context)
                }
                if format == .binary {
                    try Self.appendBinaryRow(row, types: types, columns: columns, rowNumber: number, to: &buffer, context: context)
                } else {
                    Self.appendTextRow(row, to: &buffer)
                }
                if buffer.count >= Self.copyChunkBytes {
                    try putCopyData(buffer, context: context)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if format == .binary { PGBinary.append(Int16(-1), to: &buffer) }
            try putCopyData(buffer, context: context)
        } catch {
            // Abort the COPY so the connection returns to idle; the server discards every row.
            PQputCopyEnd(connection.raw, "aborted by client: \(error)")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(connection.raw, nil) == 1 else {
            let error = connection.connectionError(.copyFailed, context: context)
            drainResults()
            throw error
        }
        return try finishCopy(context: context)
    }

    /// `INSERT … VALUES ($1,$2,$3), ($4,$5,$6) …` with binary parameters, many rows per statement,
    /// all statements in one transaction (joins the caller's if one is open).
    @discardableResult
    public func insertRows(into table: String, schema: String? = nil, columns: [String], rows: [[PostgresValue]],
                           rowsPerStatement: Int = 1_000) throws -> Int {
        guard !columns.isEmpty else { return 0 }
        let qualified = qualifiedName(table, schema: schema)
        // The protocol caps a statement at 65 535 parameters.
        let perStatement = max(1, min(rowsPerStatement, 65_535 / columns.count))
        let prefix = "INSERT INTO \(qualified) (\(columns.map(quoteIdentifier).joined(separator: ", "))) VALUES "
        func sql(rowCount: Int) -> String {
            var text = prefix
            var parameter = 0
            for row in 0..<rowCount {
                text += row == 0 ? "(" : ", ("
                for column in 0..<columns.count {
                    parameter += 1
                    text += column == 0 ? "$\(parameter)" : ", $\(parameter)"
                }
                text += ")"
            }
            return text
        }
        let fullSQL = sql(rowCount: perStatement)
        let body = { () throws -> Int in
            var inserted = 0
            var start = 0
            while start < rows.count {
                let end = min(start + perStatement, rows.count)
                var parameters = PGParameters(capacity: (end - start) * columns.count)
                for (offset, row) in rows[start..<end].enumerated() {
                    guard row.count == columns.count else {
                        throw PostgresError(code: .queryFailed,
                                            message: "row \(start + offset) has \(row.count) values for \(columns.count) columns",
                                            context: "insert into \(qualified)")
                    }
                    for value in row { try parameters.append(value) }
                }
                let statement = end - start == perStatement ? fullSQL : sql(rowCount: end - start)
                inserted += try self.connection.exec(statement, parameters).affectedRows
                start = end
            }
            return inserted
        }
        return isInTransaction ? try body() : try inTransaction(body)
    }

    // MARK: COPY internals

    /// COPY data goes out in chunks of this size: large enough to amortise the calls, small enough to stream.
    static let copyChunkBytes = 1 << 20

    private func putCopyData(_ buffer: [UInt8], context: String) throws {
        guard !buffer.isEmpty else { return }
        let rc = buffer.withUnsafeBytes { raw in
            PQputCopyData(connection.raw, raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(raw.count))
        }
        guard rc == 1 else { throw connection.connectionError(.copyFailed, context: context) }
    }

    /// Reads the COPY's final result; the first error (e.g. a constraint violation) wins.
    private func finishCopy(context: String) throws -> Int {
        var firstError: PostgresError?
        var count = 0
        while let result = PQgetResult(connection.raw) {
            let owned = PGResult(raw: result)
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                count = owned.affectedRows
            } else if firstError == nil {
                firstError = owned.error(.copyFailed, context: context)
            }
        }
        if let firstError { throw firstError }
        return count
    }

    private func drainResults() {
        while let result = PQgetResult(connection.raw) { PQclear(result) }
    }

    /// Column type OIDs, looked up because binary COPY must send each value in its column's exact type.
    private func columnTypes(of qualified: String, columns: [String]) throws -> [UInt32] {
        let rows = try query("""
            SELECT attname::text, atttypid::int8 FROM pg_attribute
            WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
            """, [.text(qualified)])
        var types: [String: UInt32] = [:]
        for row in rows { types[try row.decode(String.self, at: 0)] = UInt32(truncatingIfNeeded: try row.decode(Int64.self, at: 1)) }
        return try columns.map { column in
            guard let type = types[column] else {
                throw PostgresError(code: .columnNotFound,
                                    message: "\(qualified) has no column \"\(column)\"; it has \(types.keys.sorted())",
                                    context: "copy into \(qualified)")
            }
            return type
        }
    }

    private static func appendBinaryRow(_ row: [PostgresValue], types: [UInt32], columns: [String], rowNumber: Int,
                                        to buffer: inout [UInt8], context: String) throws {
        PGBinary.append(Int16(row.count), to: &buffer)
        for (index, value) in row.enumerated() {
            if case .null = value {
                PGBinary.append(Int32(-1), to: &buffer)
                continue
            }
            let lengthAt = buffer.count
            PGBinary.append(Int32(0), to: &buffer)
            guard encodeBinary(value, as: types[index], to: &buffer) else {
                throw PostgresError(code: .unsupportedType,
                                    message: "row \(rowNumber), column \"\(columns[index])\": a \(value.typeName) value cannot be sent as type oid \(types[index]) in binary COPY (out of range or another type); use format .text",
                                    context: context)
            }
            let length = Int32(buffer.count - lengthAt - 4)
            withUnsafeBytes(of: length.bigEndian) { bytes in
                for offset in 0..<4 { buffer[lengthAt + offset] = bytes[offset] }
            }
        }
    }

    /// Appends `value` in the binary form of column type `oid`; false when it does not fit that type.
    private static func encodeBinary(_ value: PostgresValue, as oid: UInt32, to buffer: inout [UInt8]) -> Bool {
        switch (value, oid) {
        case (.int64(let int), PGType.int8): PGBinary.append(int, to: &buffer)
        case (.int64(let int), PGType.int4):
            guard let narrow = Int32(exactly: int) else { return false }
            PGBinary.append(narrow, to: &buffer)
        case (.int64(let int), PGType.int2):
            guard let narrow = Int16(exactly: int) else { return false }
            PGBinary.append(narrow, to: &buffer)
        case (.double(let double), PGType.float8): PGBinary.append(double.bitPattern, to: &buffer)
        case (.int64(let int), PGType.float8): PGBinary.append(Double(int).bitPattern, to: &buffer)
        case (.double(let double), PGType.float4): PGBinary.append(Float(double).bitPattern, to: &buffer)
        case (.int64(let int), PGType.float4): PGBinary.append(Float(int).bitPattern, to: &buffer)
        case (.bool(let bool), PGType.bool): buffer.append(bool ? 1 : 0)
        case (.text(let text), PGType.text), (.text(let text), PGType.varchar), (.text(let text), PGType.bpchar),
             (.text(let text), PGType.name), (.text(let text), PGType.json):
            buffer.append(contentsOf: text.utf8)
        case (.text(let text), PGType.jsonb):
            buffer.append(1)
            buffer.append(contentsOf: text.utf8)
        case (.bytes(let bytes), PGType.bytea): buffer.append(contentsOf: bytes)
        case (.date(let date), PGType.timestamptz), (.date(let date), PGType.timestamp):
            PGBinary.append(PGBinary.microseconds(date), to: &buffer)
        default: return false
        }
        return true
    }

    /// One line of COPY text format: tab-separated, `\N` for NULL, backslash escapes for control characters.
    private static func appendTextRow(_ row: [PostgresValue], to buffer: inout [UInt8]) {
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            switch value {
            case .null, .unsupported: buffer.append(contentsOf: #"\N"#.utf8)
            case .int64(let int): buffer.append(contentsOf: String(int).utf8)
            case .double(let double):
                let text = double.isNaN ? "NaN" : double.isInfinite ? (double < 0 ? "-Infinity" : "Infinity") : "\(double)"
                buffer.append(contentsOf: text.utf8)
            case .bool(let bool): buffer.append(bool ? UInt8(ascii: "t") : UInt8(ascii: "f"))
            case .text(let text): appendEscaped(text.utf8, to: &buffer)
            case .bytes(let bytes):
                // bytea hex input `\x…`, with its backslash doubled for COPY.
                buffer.append(contentsOf: #"\\x"#.utf8)
                for byte in bytes { buffer.append(contentsOf: String(byte, radix: 16).leftPadded(to: 2).utf8) }
            case .date(let date):
                appendEscaped(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)).utf8, to: &buffer)
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    private static func appendEscaped(_ utf8: some Sequence<UInt8>, to buffer: inout [UInt8]) {
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: buffer.append(byte)
            }
        }
    }

    private func qualifiedName(_ table: String, schema: String?) -> String {
        guard let schema else { return quoteIdentifier(table) }
        return quoteIdentifier(schema) + "." + quoteIdentifier(table)
    }
}

extension PostgresConnection {
    /// Loads rows by the fastest path measured (binary COPY); atomic. See `PostgresSession.bulkLoad`.
    @discardableResult
    public func bulkLoad(into table: String, schema: String? = nil, columns: [String],
                         rows: [[PostgresValue]], ignoringDuplicates: Bool = false) async throws -> Int {
        try await withSession {
            try $0.bulkLoad(into: table, schema: schema, columns: columns, rows: rows, ignoringDuplicates: ignoringDuplicates)
        }
    }

    /// `COPY … FROM STDIN` in text or binary format; atomic.
    @discardableResult
    public func copy(into table: String, schema: String? = nil, columns: [String], rows: [[PostgresValue]],
                     format: PostgresCopyFormat = .binary) async throws -> Int {
        try await withSession { try $0.copy(into: table, schema: schema, columns: columns, rows: rows, format: format) }
    }

    /// Multi-row INSERT with binary parameters, in one transaction.
    @discardableResult
    public func insertRows(into table: String, schema: String? = nil, columns: [String], rows: [[PostgresValue]],
                           rowsPerStatement: Int = 1_000) async throws -> Int {
        try await withSession {
            try $0.insertRows(into: table, schema: schema, columns: columns, rows: rows, rowsPerStatement: rowsPerStatement)
        }
    }
}

/// Quotes an SQL identifier so names with any characters are taken literally.
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
