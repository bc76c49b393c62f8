import Foundation
import SQLite
import Testing

/// A fresh database file in its own temporary directory, removed when the test ends.
private func withTemporaryDatabase<T>(
    _ configure: (inout SQLiteConfiguration) -> Void = { _ in },
    _ body: (SQLiteDatabase, String) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("test.sqlite").path
    var configuration = SQLiteConfiguration(path: path)
    configure(&configuration)
    let database = try await SQLiteDatabase.open(configuration)
    let result = try await body(database, path)
    await database.close()
    return result
}

@Suite("SQLite against a real database file")
struct SQLiteTests {
    @Test("typed binds round-trip: integers, reals, unicode text, blobs, booleans, dates and NULL")
    func crudRoundTrip() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            try await database.execute("""
                CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, weight REAL, data BLOB, active INTEGER, seen REAL);
                """)
            let seen = Date(timeIntervalSince1970: 1_790_000_000.25)
            let inserted = try await database.run(
                "INSERT INTO item (id, name, weight, data, active, seen) VALUES (?, ?, ?, ?, ?, ?)",
                [1, "Prüfstand ✓ 工位", 2.5, .blob([0, 1, 255]), true, SQLiteValue(seen)])
            #expect(inserted == 1)
            try await database.run("INSERT INTO item (id, name, weight, data, active, seen) VALUES (?, ?, ?, ?, ?, ?)",
                                   [2, nil, nil, .blob([]), false, nil])

            let rows = try await database.query("SELECT id, name, weight, data, active, seen FROM item ORDER BY id")
            #expect(rows.count == 2)
            #expect(try rows[0].decode(Int64.self, at: 0) == 1)
            #expect(try rows[0].decode(String.self, named: "name") == "Prüfstand ✓ 工位")
            #expect(try rows[0].decode(Double.self, at: 2) == 2.5)
            #expect(try rows[0].decode([UInt8].self, at: 3) == [0, 1, 255])
            #expect(try rows[0].decode(Bool.self, at: 4) == true)
            #expect(try rows[0].decode(Date.self, at: 5) == seen)
            #expect(try rows[1].decode(String?.self, at: 1) == nil)
            #expect(rows[1].column(2) == .null)
            #expect(try rows[1].decode(Data.self, at: 3) == Data())
            #expect(try rows[1].decode(Bool.self, at: 4) == false)

            let updated = try await database.run("UPDATE item SET name = ? WHERE id = ?", ["renamed", 2])
            #expect(updated == 1)
            #expect(try await database.query("SELECT name FROM item WHERE id = 2")[0].decode(String.self, at: 0) == "renamed")
            #expect(try await database.run("DELETE FROM item WHERE id = ?", [1]) == 1)
            #expect(try await database.query("SELECT count(*) FROM item")[0].decode(Int64.self, at: 0) == 1)
        }
    }

    @Test("decoding the wrong type names the column and the stored type")
    func typeMismatch() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            let row = try await database.query("SELECT 'x' AS label")[0]
            let error = #expect(throws: SQLiteError.self) { try row.decode(Int64.self, at: 0) }
            #expect(error?.code == .typeMismatch)
            #expect(error?.description.contains("\"label\"") == true)
        }
    }

    @Test("a prepared statement is reused with new binds")
    func preparedStatementReuse() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            let total = try await database.transaction { session in
                try session.execute("CREATE TABLE t (n INTEGER)")
                let insert = try session.prepare("INSERT INTO t (n) VALUES (?)")
                for n in 1...10 { try insert.run([.integer(Int64(n))]) }
                return try session.query("SELECT sum(n) FROM t")[0].decode(Int64.self, at: 0)
            }
            #expect(total == 55)
        }
    }

    @Test("transaction commits on success and rolls back when the body throws")
    func transactions() async throws {
        struct Abort: Error {}
        try await withTemporaryDatabase { (database, _) async throws in
            try await database.execute("CREATE TABLE t (n INTEGER)")
            _ = try await database.transaction { try $0.run("INSERT INTO t VALUES (1)") }
            await #expect(throws: Abort.self) {
                try await database.transaction { session in
                    try session.run("INSERT INTO t VALUES (2)")
                    throw Abort()
                }
            }
            let values = try await database.query("SELECT n FROM t").map { try $0.decode(Int64.self, at: 0) }
            #expect(values == [1])
            // The connection is usable after a rollback: no transaction was left open.
            _ = try await database.transaction { try $0.run("INSERT INTO t VALUES (3)") }
            #expect(try await database.query("SELECT count(*) FROM t")[0].decode(Int64.self, at: 0) == 2)
        }
    }

    @Test("a syntax error carries SQLite's own message and the statement")
    func syntaxError() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            let error = await #expect(throws: SQLiteError.self) { try await database.query("SELEC 1") }
            #expect(error?.code == .prepareFailed)
            #expect(error?.message.contains("syntax error") == true)
            #expect(error?.description.contains("SELEC 1") == true)
        }
    }

    @Test("a unique violation is a constraintViolation with the extended result code")
    func uniqueViolation() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            try await database.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
            try await database.run("INSERT INTO t VALUES (?)", ["a"])
            let error = await #expect(throws: SQLiteError.self) { try await database.run("INSERT INTO t VALUES (?)", ["a"]) }
            #expect(error?.code == .constraintViolation)
            #expect(error?.resultCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
            #expect(error?.message.contains("UNIQUE constraint failed") == true)
        }
    }

    @Test("defaults: WAL journal and synchronous=NORMAL; synchronous is configurable")
    func pragmas() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            #expect(try await database.query("PRAGMA journal_mode")[0].decode(String.self, at: 0) == "wal")
            #expect(try await database.query("PRAGMA synchronous")[0].decode(Int64.self, at: 0) == 1)
            #expect(try await database.query("PRAGMA busy_timeout")[0].decode(Int64.self, at: 0) == 5000)
        }
        try await withTemporaryDatabase({
            $0.synchronous = .full
            $0.pragmas = [.init("cache_size", "-4000")]
        }) { (database, _) async throws in
            #expect(try await database.query("PRAGMA synchronous")[0].decode(Int64.self, at: 0) == 2)
            #expect(try await database.query("PRAGMA cache_size")[0].decode(Int64.self, at: 0) == -4000)
        }
    }

    @Test("a pragma value that could inject SQL is refused before open completes")
    func unsafePragma() async throws {
        let error = await #expect(throws: SQLiteError.self) {
            try await withTemporaryDatabase({ $0.pragmas = [.init("cache_size", "1; DROP TABLE x")] }) { _, _ in }
        }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test("read-only open cannot write, and opening a missing file without create fails with SQLite's message")
    func openModes() async throws {
        try await withTemporaryDatabase { database, path in
            try await database.execute("CREATE TABLE t (n INTEGER)")
            let reader = try await SQLiteDatabase.open(SQLiteConfiguration(path: path, mode: .readOnly))
            let error = await #expect(throws: SQLiteError.self) { try await reader.run("INSERT INTO t VALUES (1)") }
            #expect(error?.message.contains("readonly") == true)
            #expect(try await reader.query("SELECT count(*) FROM t")[0].decode(Int64.self, at: 0) == 0)
            await reader.close()
        }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString)/x.sqlite").path
        let error = await #expect(throws: SQLiteError.self) {
            try await SQLiteDatabase.open(SQLiteConfiguration(path: missing, mode: .readWrite))
        }
        #expect(error?.code == .openFailed)
        #expect(error?.description.contains("unable to open") == true)
    }

    @Test("a closed database throws closed instead of touching a freed handle")
    func closed() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            await database.close()
            let error = await #expect(throws: SQLiteError.self) { try await database.query("SELECT 1") }
            #expect(error?.code == .closed)
        }
    }
}

@Suite("SQLite migrations")
struct SQLiteMigrationTests {
    let v1 = SQLiteMigration(version: 1, name: "create samples", sql: "CREATE TABLE samples (series_id INTEGER, ts INTEGER, value REAL)")
    let v2 = SQLiteMigration(version: 2, name: "index samples", sql: "CREATE UNIQUE INDEX samples_key ON samples (series_id, ts)")

    @Test("apply once in order, re-run is a no-op")
    func applyOnce() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            #expect(try await database.migrate([v1, v2]) == [1, 2])
            #expect(try await database.migrate([v1, v2]) == [])
            let recorded = try await database.query("SELECT version, name FROM schema_migrations ORDER BY version")
            #expect(try recorded.map { try $0.decode(Int64.self, at: 0) } == [1, 2])
            #expect(try recorded[1].decode(String.self, at: 1) == "index samples")
            let v3 = SQLiteMigration(version: 3, name: "add unit", sql: "ALTER TABLE samples ADD COLUMN unit TEXT")
            #expect(try await database.migrate([v1, v2, v3]) == [3])
        }
    }

    @Test("a database newer than the program, an edited migration or an out-of-order one is refused")
    func refusals() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            try await database.migrate([v1, v2])

            let unknown = await #expect(throws: SQLiteError.self) { try await database.migrate([v1]) }
            #expect(unknown?.code == .unknownMigration)
            #expect(unknown?.message.contains("migration 2") == true)

            let edited = SQLiteMigration(version: 1, name: "create samples", sql: v1.sql + " -- edited")
            let changed = await #expect(throws: SQLiteError.self) { try await database.migrate([edited, v2]) }
            #expect(changed?.code == .migrationChanged)

            let late = SQLiteMigration(version: 0, name: "late", sql: "CREATE TABLE late (x)")
            let outOfOrder = await #expect(throws: SQLiteError.self) { try await database.migrate([late, v1, v2]) }
            #expect(outOfOrder?.code == .migrationOutOfOrder)

            let unsorted = await #expect(throws: SQLiteError.self) { try await database.migrate([v2, v1]) }
            #expect(unsorted?.code == .invalidMigrations)
            #expect(try await database.query("SELECT name FROM sqlite_master WHERE name = 'late'").isEmpty)
        }
    }

    @Test("a failing migration is rolled back and not recorded")
    func failingMigration() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            let bad = SQLiteMigration(version: 2, name: "bad", sql: "CREATE TABLE ok (x); CREATE TABLEE nope (x)")
            let error = await #expect(throws: SQLiteError.self) { try await database.migrate([v1, bad]) }
            #expect(error?.code == .migrationFailed)
            #expect(try await database.query("SELECT version FROM schema_migrations").count == 1)
            #expect(try await database.query("SELECT name FROM sqlite_master WHERE name = 'ok'").isEmpty)
        }
    }
}

@Suite("SQLite bulk load")
struct SQLiteBulkLoadTests {
    @Test("bulk insert N rows in batches, then count and spot-check")
    func bulkInsert() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            try await database.execute("CREATE TABLE samples (series_id INTEGER, ts INTEGER, value REAL)")
            let rows: [[SQLiteValue]] = (0..<25_000).map { i in
                [.integer(Int64(i % 7)), .integer(Int64(i)), .real(Double(i) * 0.5)]
            }
            #expect(try await database.bulkInsert(into: "samples", columns: ["series_id", "ts", "value"], rows: rows,
                                                  batchSize: 4_000) == 25_000)
            #expect(try await database.query("SELECT count(*) FROM samples")[0].decode(Int64.self, at: 0) == 25_000)
            let spot = try await database.query("SELECT series_id, value FROM samples WHERE ts = ?", [12_345])
            #expect(try spot[0].decode(Int64.self, at: 0) == 12_345 % 7)
            #expect(try spot[0].decode(Double.self, at: 1) == 6_172.5)
        }
    }

    @Test("ignoringDuplicates loads redelivered rows idempotently and counts only new ones")
    func bulkInsertIdempotent() async throws {
        try await withTemporaryDatabase { database, _ in
            try await database.execute("CREATE TABLE samples (series_id INTEGER, ts INTEGER, value REAL, PRIMARY KEY (series_id, ts))")
            let rows: [[SQLiteValue]] = (0..<1_000).map { [1, .integer(Int64($0)), .real(Double($0))] }
            #expect(try await database.bulkInsert(into: "samples", columns: ["series_id", "ts", "value"], rows: rows) == 1_000)
            let overlapping: [[SQLiteValue]] = (500..<1_500).map { [1, .integer(Int64($0)), -1.0] }
            #expect(try await database.bulkInsert(into: "samples", columns: ["series_id", "ts", "value"], rows: overlapping,
                                                  ignoringDuplicates: true) == 500)
            #expect(try await database.query("SELECT count(*) FROM samples")[0].decode(Int64.self, at: 0) == 1_500)
            // The first delivery wins.
            #expect(try await database.query("SELECT value FROM samples WHERE ts = 700")[0].decode(Double.self, at: 0) == 700)
        }
    }

    @Test("a failing row rolls back its batch and the error says how much was committed")
    func bulkInsertFailure() async throws {
        try await withTemporaryDatabase { (database, _) async throws in
            try await database.execute("CREATE TABLE samples (ts INTEGER PRIMARY KEY)")
            let rows: [[SQLiteValue]] = (0..<10).map { [.integer(Int64($0 == 7 ? 1 : $0))] }
            let error = await #expect(throws: SQLiteError.self) {
                try await database.bulkInsert(into: "samples", columns: ["ts"], rows: rows, batchSize: 5)
            }
            #expect(error?.code == .constraintViolation)
            #expect(error?.context.contains("after 5 committed rows") == true)
            #expect(try await database.query("SELECT count(*) FROM samples")[0].decode(Int64.self, at: 0) == 5)
        }
    }
}
