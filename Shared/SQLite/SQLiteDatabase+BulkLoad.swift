import Foundation

/// Bulk loading: one prepared INSERT reused for every row, committed in batches.
extension SQLiteDatabase {
    /// Inserts `rows` into `table` and returns how many were inserted.
    ///
    /// With `ignoringDuplicates`, rows that would violate a unique key are skipped (`INSERT OR IGNORE`) and not
    /// counted: redelivered samples keyed by (series, timestamp) then load idempotently.
    ///
    /// Rows go in batches of `batchSize` per transaction: one transaction per row would fsync per row, one
    /// transaction for millions of rows would grow the WAL without bound. If a row fails, its batch is rolled
    /// back and the error says how many rows earlier batches had already committed.
    @discardableResult
    public func bulkInsert(into table: String, columns: [String], rows: [[SQLiteValue]],
                           batchSize: Int = 10_000, ignoringDuplicates: Bool = false) async throws -> Int {
        let verb = ignoringDuplicates ? "INSERT OR IGNORE" : "INSERT"
        let sql = "\(verb) INTO \(quoteIdentifier(table)) (\(columns.map(quoteIdentifier).joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
        let batch = max(1, batchSize)
        return try await withSession { session in
            let insert = try session.prepare(sql)
            var committed = 0
            var inserted = 0
            while committed < rows.count {
                let end = min(committed + batch, rows.count)
                do {
                    inserted += try session.inTransaction {
                        var changed = 0
                        for row in rows[committed..<end] {
                            changed += try insert.run(row)
                        }
                        return changed
                    }
                } catch let error as SQLiteError {
                    throw SQLiteError(code: error.code, resultCode: error.resultCode, message: error.message,
                                      context: "bulkInsert into \"\(table)\" after \(committed) committed rows: \(error.context)")
                }
                committed = end
            }
            return inserted
        }
    }
}

/// Quotes an SQL identifier so table and column names with any characters are taken literally.
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
