import Foundation
import Postgres
import Testing

@Suite("PostgreSQL against a real server")
struct PostgresTests {
    @Test("typed binds round-trip: integers, doubles, unicode text, bytea, booleans, timestamps and NULL")
    func crudRoundTrip() async throws {
        try await withTestSchema { (connection, _) async throws in
            try await connection.execute("""
                CREATE TABLE item (id int PRIMARY KEY, name text, weight double precision, data bytea,
                                   active boolean, seen timestamptz, small smallint, label varchar(20))
                """)
            let seen = Date(timeIntervalSince1970: 1_790_000_000.125)
            let inserted = try await connection.run(
                "INSERT INTO item VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                [1, "Prüfstand ✓ 工位", 2.5, .bytes([0, 1, 255]), true, .date(seen), 7, "tag"])
            #expect(inserted == 1)
            try await connection.run("INSERT INTO item (id, name, weight, data, active, seen) VALUES ($1, $2, $3, $4, $5, $6)",
                                     [2, nil, nil, .bytes([]), false, nil])

            let rows = try await connection.query("SELECT id, name, weight, data, active, seen, small, label FROM item ORDER BY id")
            #expect(rows.count == 2)
            #expect(try rows[0].decode(Int64.self, at: 0) == 1)
            #expect(try rows[0].decode(String.self, named: "name") == "Prüfstand ✓ 工位")
            #expect(try rows[0].decode(Double.self, at: 2) == 2.5)
            #expect(try rows[0].decode([UInt8].self, at: 3) == [0, 1, 255])
            #expect(try rows[0].decode(Bool.self, at: 4) == true)
            #expect(try rows[0].decode(Date.self, at: 5) == seen)
            #expect(try rows[0].decode(Int.self, at: 6) == 7)
            #expect(try rows[0].decode(String.self, at: 7) == "tag")
            #expect(try rows[1].decode(String?.self, at: 1) == nil)
            #expect(rows[1].column(2) == .null)
            #expect(try rows[1].decode(Data.self, at: 3) == Data())
            #expect(try rows[1].decode(Bool.self, at: 4) == false)

            // A lone empty bytea must arrive as '' and not as NULL.
            let empty = try await connection.query("SELECT $1::bytea IS NULL, length($1::bytea)", [.bytes([])])[0]
            #expect(try empty.decode(Bool.self, at: 0) == false)
            #expect(try empty.decode(Int64.self, at: 1) == 0)

            #expect(try await connection.run("UPDATE item SET name = $1 WHERE id = $2", ["renamed", 2]) == 1)
            #expect(try await connection.query("SELECT name FROM item WHERE id = $1", [2])[0].decode(String.self, at: 0) == "renamed")
            #expect(try await connection.run("DELETE FROM item WHERE id = $1", [1]) == 1)
            #expect(try await connection.query("SELECT count(*) FROM item")[0].decode(Int64.self, at: 0) == 1)
        }
    }

    @Test("text binds reach non-text columns (uuid, jsonb) and such columns read back as text")
    func untypedTextBinds() async throws {
        try await withTestSchema { (connection, _) async throws in
            try await connection.execute("CREATE TABLE doc (id uuid PRIMARY KEY, body jsonb)")
            let id = UUID().uuidString.lowercased()
            try await connection.run("INSERT INTO doc VALUES ($1, $2)", [.text(id), #"{"a": 1}"#])
            let row = try await connection.query("SELECT id, body, 1.5::numeric AS n FROM doc")[0]
            #expect(try row.decode(String.self, at: 0) == id)
            #expect(try row.decode(String.self, at: 1) == #"{"a": 1}"#)
            let error = #expect(throws: PostgresError.self) { try row.decode(Double.self, at: 2) }
            #expect(error?.message.contains("cast it in SQL") == true)
        }
    }

    @Test("a prepared statement is reused with new binds")
    func preparedStatement() async throws {
        try await withTestSchema { (connection, _) async throws in
            let total = try await connection.transaction { session in
                try session.execute("CREATE TABLE t (n bigint)")
                let insert = try session.prepare("INSERT INTO t VALUES ($1)")
                for n in 1...10 { try insert.run([.int64(Int64(n))]) }
                return try session.query("SELECT sum(n)::int8 FROM t")[0].decode(Int64.self, at: 0)
            }
            #expect(total == 55)
        }
    }

    @Test("transaction commits on success and rolls back when the body throws")
    func transactions() async throws {
        struct Abort: Error {}
        try await withTestSchema { (connection, _) async throws in
            try await connection.execute("CREATE TABLE t (n int)")
            _ = try await connection.transaction { try $0.run("INSERT INTO t VALUES (1)") }
            await #expect(throws: Abort.self) {
                try await connection.transaction { session in
                    try session.run("INSERT INTO t VALUES (2)")
                    throw Abort()
                }
            }
            // A failing statement aborts the transaction; the rollback leaves the connection usable.
            await #expect(throws: PostgresError.self) {
                try await connection.transaction { try $0.run("INSERT INTO t VALUES ('not a number')") }
            }
            let values = try await connection.query("SELECT n FROM t").map { try $0.decode(Int64.self, at: 0) }
            #expect(values == [1])
        }
    }

    @Test("a syntax error carries PostgreSQL's message and SQLSTATE 42601")
    func syntaxError() async throws {
        try await withTestSchema { (connection, _) async throws in
            let error = await #expect(throws: PostgresError.self) { try await connection.query("SELEC 1") }
            #expect(error?.code == .queryFailed)
            #expect(error?.sqlState == "42601")
            #expect(error?.message.contains("syntax error at or near \"SELEC\"") == true)
            #expect(error?.description.contains("SELEC 1") == true)
        }
    }

    @Test("a unique violation has SQLSTATE 23505")
    func uniqueViolation() async throws {
        try await withTestSchema { (connection, _) async throws in
            try await connection.execute("CREATE TABLE t (k text PRIMARY KEY)")
            try await connection.run("INSERT INTO t VALUES ($1)", ["a"])
            let error = await #expect(throws: PostgresError.self) { try await connection.run("INSERT INTO t VALUES ($1)", ["a"]) }
            #expect(error?.sqlState == "23505")
            #expect(error?.isUniqueViolation == true)
            #expect(error?.message.contains("duplicate key value violates unique constraint") == true)
        }
    }

    @Test("connecting to a closed port fails clearly and never shows the password")
    func closedPort() async throws {
        var configuration = try PostgresTestEnvironment.configuration()
        configuration.port = 1
        configuration.password = "s3cret-Passw0rd"
        configuration.connectTimeout = 2
        let error = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(configuration) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("Connection refused") == true)
        #expect(error?.description.contains(":1/") == true)
        #expect(error?.description.contains("s3cret-Passw0rd") == false)
        #expect(String(describing: configuration).contains("s3cret-Passw0rd") == false)
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(dumped.contains("s3cret-Passw0rd") == false)
    }

    @Test("a closed connection throws closed")
    func closed() async throws {
        let connection = try await PostgresConnection.connect(PostgresTestEnvironment.configuration())
        await connection.close()
        let error = await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1") }
        #expect(error?.code == .closed)
    }
}

@Suite("PostgreSQL configuration (no server)")
struct PostgresConfigurationTests {
    @Test("a postgres:// URL sets every field and decodes percent-escapes")
    func parseURL() throws {
        let configuration = try PostgresConfiguration(
            url: "postgresql://stream%40plant:p%40ss%3Aword@db.local:6543/mes?sslmode=require&application_name=stream-1")
        #expect(configuration.host == "db.local")
        #expect(configuration.port == 6543)
        #expect(configuration.user == "stream@plant")
        #expect(configuration.password == "p@ss:word")
        #expect(configuration.database == "mes")
        #expect(configuration.sslMode == .require)
        #expect(configuration.applicationName == "stream-1")
        #expect(configuration.description == "postgres://stream@plant:***@db.local:6543/mes?sslmode=require&application_name=stream-1")
    }

    @Test("a bad URL is refused without repeating it")
    func badURL() {
        let wrongScheme = #expect(throws: PostgresError.self) { try PostgresConfiguration(url: "mysql://u:hunter2@h/db") }
        #expect(wrongScheme?.description.contains("hunter2") == false)
        let badMode = #expect(throws: PostgresError.self) { try PostgresConfiguration(url: "postgres://u:hunter2@h/db?sslmode=maybe") }
        #expect(badMode?.message.contains("verify-full") == true)
        #expect(badMode?.description.contains("hunter2") == false)
    }
}

@Suite("PostgreSQL migrations")
struct PostgresMigrationTests {
    let v1 = PostgresMigration(version: 1, name: "create samples", sql: "CREATE TABLE samples (series_id int, ts bigint, value double precision)")
    let v2 = PostgresMigration(version: 2, name: "index samples", sql: "CREATE UNIQUE INDEX samples_key ON samples (series_id, ts)")

    @Test("apply once in order, re-run is a no-op")
    func applyOnce() async throws {
        try await withTestSchema { (connection, _) async throws in
            #expect(try await connection.migrate([v1, v2]) == [1, 2])
            #expect(try await connection.migrate([v1, v2]) == [])
            let recorded = try await connection.query("SELECT version, name FROM schema_migrations ORDER BY version")
            #expect(try recorded.map { try $0.decode(Int64.self, at: 0) } == [1, 2])
            let v3 = PostgresMigration(version: 3, name: "add unit", sql: "ALTER TABLE samples ADD COLUMN unit text")
            #expect(try await connection.migrate([v1, v2, v3]) == [3])
        }
    }

    @Test("a database newer than the program, an edited migration or an out-of-order one is refused")
    func refusals() async throws {
        try await withTestSchema { (connection, _) async throws in
            try await connection.migrate([v1, v2])
            let unknown = await #expect(throws: PostgresError.self) { try await connection.migrate([v1]) }
            #expect(unknown?.code == .unknownMigration)
            let edited = PostgresMigration(version: 1, name: "create samples", sql: v1.sql + " -- edited")
            let changed = await #expect(throws: PostgresError.self) { try await connection.migrate([edited, v2]) }
            #expect(changed?.code == .migrationChanged)
            #expect(changed?.message.contains("was changed after it was applied") == true)
            let late = PostgresMigration(version: 0, name: "late", sql: "CREATE TABLE late (x int)")
            let outOfOrder = await #expect(throws: PostgresError.self) { try await connection.migrate([late, v1, v2]) }
            #expect(outOfOrder?.code == .migrationOutOfOrder)
            #expect(try await connection.query("SELECT to_regclass('late')::text")[0].column(0) == .null)
        }
    }

    @Test("two instances migrating at once apply each migration exactly once")
    func concurrentMigrate() async throws {
        try await withTestSchema { (connection, schema) async throws in
            let other = try await PostgresConnection.connect(PostgresTestEnvironment.configuration())
            try await other.execute("SET search_path TO \(schema)")
            async let first = connection.migrate([v1, v2])
            async let second = other.migrate([v1, v2])
            let applied = try await [first, second]
            await other.close()
            #expect(applied.sorted { $0.count < $1.count } == [[], [1, 2]])
            #expect(try await connection.query("SELECT count(*) FROM schema_migrations")[0].decode(Int64.self, at: 0) == 2)
        }
    }

    @Test("a failing migration is rolled back and not recorded")
    func failingMigration() async throws {
        try await withTestSchema { (connection, _) async throws in
            let bad = PostgresMigration(version: 2, name: "bad", sql: "CREATE TABLE ok (x int); CREATE TABLEE nope (x int)")
            let error = await #expect(throws: PostgresError.self) { try await connection.migrate([v1, bad]) }
            #expect(error?.code == .migrationFailed)
            #expect(error?.sqlState == "42601")
            #expect(try await connection.query("SELECT count(*) FROM schema_migrations")[0].decode(Int64.self, at: 0) == 1)
            #expect(try await connection.query("SELECT to_regclass('ok')::text")[0].column(0) == .null)
        }
    }
}

@Suite("PostgreSQL bulk load")
struct PostgresBulkLoadTests {
    static let columns = ["series_id", "ts", "value", "note"]

    static func rows(_ count: Int) -> [[PostgresValue]] {
        (0..<count).map { i -> [PostgresValue] in
            let note: PostgresValue = i % 100 == 0 ? .text("tab\there\\ \"é\"\nline") : .null
            return [.int64(Int64(i % 7)), .int64(Int64(i)), .double(Double(i) * 0.5), note]
        }
    }

    /// Loads 20 000 rows with `load`, then checks the count and one row in full, including escapes and NULL.
    private func check(_ load: @Sendable (PostgresConnection, [[PostgresValue]]) async throws -> Int) async throws {
        try await withTestSchema { (connection, _) async throws in
            try await connection.execute("CREATE TABLE samples (series_id int, ts bigint PRIMARY KEY, value double precision, note text)")
            #expect(try await load(connection, Self.rows(20_000)) == 20_000)
            #expect(try await connection.query("SELECT count(*) FROM samples")[0].decode(Int64.self, at: 0) == 20_000)
            let spot = try await connection.query("SELECT series_id, value, note FROM samples WHERE ts = $1", [12_300])[0]
            #expect(try spot.decode(Int64.self, at: 0) == 12_300 % 7)
            #expect(try spot.decode(Double.self, at: 1) == 6_150)
            #expect(try spot.decode(String.self, at: 2) == "tab\there\\ \"é\"\nline")
            #expect(try await connection.query("SELECT note FROM samples WHERE ts = 12301")[0].column(0) == .null)
        }
    }

    @Test("bulkLoad (binary COPY) loads N rows")
    func bulkLoad() async throws {
        try await check { try await $0.bulkLoad(into: "samples", columns: Self.columns, rows: $1) }
    }

    @Test("text COPY loads N rows with escapes")
    func textCopy() async throws {
        try await check { try await $0.copy(into: "samples", columns: Self.columns, rows: $1, format: .text) }
    }

    @Test("multi-row INSERT loads N rows")
    func multiRowInsert() async throws {
        try await check { try await $0.insertRows(into: "samples", columns: Self.columns, rows: $1, rowsPerStatement: 700) }
    }

    @Test("bulkLoad ignoringDuplicates loads redelivered rows idempotently and counts only new ones")
    func idempotentBulkLoad() async throws {
        try await withTestSchema { (connection, schema) async throws in
            try await connection.execute("CREATE TABLE samples (series_id int, ts bigint, value double precision, PRIMARY KEY (series_id, ts))")
            let columns = ["series_id", "ts", "value"]
            let rows: [[PostgresValue]] = (0..<1_000).map { [1, .int64(Int64($0)), .double(Double($0))] }
            #expect(try await connection.bulkLoad(into: "samples", schema: schema, columns: columns, rows: rows) == 1_000)
            // Overlaps the first load by 500 rows and repeats one row inside the batch.
            let overlapping: [[PostgresValue]] = (500..<1_500).map { [1, .int64(Int64($0)), -1.0] } + [[1, 1_499, -2.0]]
            #expect(try await connection.bulkLoad(into: "samples", schema: schema, columns: columns, rows: overlapping,
                                                  ignoringDuplicates: true) == 500)
            #expect(try await connection.query("SELECT count(*) FROM samples")[0].decode(Int64.self, at: 0) == 1_500)
            #expect(try await connection.query("SELECT value FROM samples WHERE ts = 700")[0].decode(Double.self, at: 0) == 700)
            // Twice in one transaction: staging tables must not collide.
            let twice = try await connection.transaction { session in
                try session.bulkLoad(into: "samples", columns: columns, rows: [[2, 1, 1.0]], ignoringDuplicates: true)
                    + session.bulkLoad(into: "samples", columns: columns, rows: [[2, 1, 1.0], [2, 2, 2.0]], ignoringDuplicates: true)
            }
            #expect(twice == 2)
        }
    }

    @Test("a COPY that violates a key loads nothing, says 23505, and leaves the connection usable")
    func copyFailure() async throws {
        try await withTestSchema { connection, schema in
            try await connection.execute("CREATE TABLE samples (series_id int, ts bigint PRIMARY KEY, value double precision, note text)")
            var rows = Self.rows(1_000)
            rows[999] = rows[0]
            let error = await #expect(throws: PostgresError.self) {
                try await connection.bulkLoad(into: "samples", schema: schema, columns: Self.columns, rows: rows)
            }
            #expect(error?.sqlState == "23505")
            #expect(try await connection.query("SELECT count(*) FROM samples")[0].decode(Int64.self, at: 0) == 0)

            let tooBig: [[PostgresValue]] = [[.int64(Int64(Int32.max) + 1), 1, 1.0, nil]]
            let range = await #expect(throws: PostgresError.self) {
                try await connection.bulkLoad(into: "samples", columns: Self.columns, rows: tooBig)
            }
            #expect(range?.code == .unsupportedType)
            #expect(range?.message.contains("series_id") == true)
            #expect(try await connection.query("SELECT 1")[0].decode(Int64.self, at: 0) == 1)
        }
    }
}
