import Benchmark
import Foundation
import Postgres
import SQLite

/// Bulk-load throughput of the two stores: 100 000 samples (series_id int, ts bigint, value double precision)
/// per iteration into a table keyed by (series_id, ts), like the time-series store. The table is emptied
/// before each iteration, outside the measured span. Results and how to read them: docs/benchmarks-store.md.
///
/// PostgreSQL benchmarks need POSTGRES_HOST / POSTGRES_PORT / POSTGRES_USER / POSTGRES_DB (optional
/// POSTGRES_PASSWORD); without them only SQLite runs.
let benchmarks: @Sendable () -> Void = {
    let rowCount = 100_000
    let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)
    // Server CPU of the PostgreSQL backend, read from /proc: the machine is shared and wall clock is noisy,
    // CPU time shows what each path costs no matter what else runs.
    let serverCPU = BenchmarkMetric.custom("server CPU (ms)", polarity: .prefersSmaller, useScalingFactor: false)
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, rowsPerSecond], warmupIterations: 1,
                                           maxDuration: .seconds(30), maxIterations: 12)

    /// Runs `load` with the measurement around it only, and records rows/s from the same span.
    func measure(_ benchmark: Benchmark, _ load: () async throws -> Int) async throws {
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        let loaded = try await load()
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()
        precondition(loaded == rowCount, "loaded \(loaded) rows, expected \(rowCount)")
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        benchmark.measurement(rowsPerSecond, Int(Double(rowCount) * 1e9 / nanoseconds))
    }

    // MARK: SQLite

    let sqlitePath = FileManager.default.temporaryDirectory.appendingPathComponent("store-bulk-load-bench.sqlite").path
    let sqliteRows: [[SQLiteValue]] = (0..<rowCount).map { (i: Int) -> [SQLiteValue] in
        let series = SQLiteValue.integer(Int64(i % 100))
        let ts = SQLiteValue.integer(1_790_000_000_000 + Int64(i))
        return [series, ts, .real(Double(i) * 0.25)]
    }
    func removeSQLiteFiles() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqlitePath + suffix) }
    }
    for synchronous in [SQLiteConfiguration.Synchronous.normal, .full] {
        Benchmark("SQLite bulkInsert 100k rows (WAL, synchronous=\(synchronous.rawValue), batch 10k)") { (benchmark: Benchmark, database: SQLiteDatabase) async throws in
            try await database.execute("DELETE FROM samples")
            try await measure(benchmark) {
                try await database.bulkInsert(into: "samples", columns: ["series_id", "ts", "value"], rows: sqliteRows)
            }
        } setup: { () async throws in
            removeSQLiteFiles()
            let database = try await SQLiteDatabase.open(SQLiteConfiguration(path: sqlitePath, synchronous: synchronous))
            try await database.execute("""
                CREATE TABLE samples (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
                                      PRIMARY KEY (series_id, ts)) WITHOUT ROWID
                """)
            return database
        } teardown: {
            removeSQLiteFiles()
        }
    }

    // MARK: PostgreSQL

    let environment = ProcessInfo.processInfo.environment
    guard let host = environment["POSTGRES_HOST"], let port = environment["POSTGRES_PORT"].flatMap(Int.init),
          let user = environment["POSTGRES_USER"], let database = environment["POSTGRES_DB"] else {
        print("StoreBulkLoad: POSTGRES_HOST/PORT/USER/DB not set; skipping the PostgreSQL benchmarks")
        return
    }
    let configuration = PostgresConfiguration(host: host, port: port, user: user, password: environment["POSTGRES_PASSWORD"],
                                              database: database, sslMode: .disable, applicationName: "store-bulk-load-bench")
    let schema = "store_bulk_load_bench"
    let columns = ["series_id", "ts", "value"]
    let postgresRows: [[PostgresValue]] = (0..<rowCount).map { (i: Int) -> [PostgresValue] in
        let series = PostgresValue.int64(Int64(i % 100))
        let ts = PostgresValue.int64(1_790_000_000_000 + Int64(i))
        return [series, ts, .double(Double(i) * 0.25)]
    }
    let paths: [(String, @Sendable (PostgresConnection) async throws -> Int)] = [
        ("COPY binary (bulkLoad)", { try await $0.copy(into: "samples", schema: schema, columns: columns, rows: postgresRows, format: .binary) }),
        ("COPY binary via staging table, ignoringDuplicates", {
            try await $0.bulkLoad(into: "samples", schema: schema, columns: columns, rows: postgresRows, ignoringDuplicates: true)
        }),
        ("COPY text", { try await $0.copy(into: "samples", schema: schema, columns: columns, rows: postgresRows, format: .text) }),
        ("multi-row INSERT binary, 1000 rows/statement", {
            try await $0.insertRows(into: "samples", schema: schema, columns: columns, rows: postgresRows, rowsPerStatement: 1_000)
        }),
        ("multi-row INSERT binary, 10000 rows/statement", {
            try await $0.insertRows(into: "samples", schema: schema, columns: columns, rows: postgresRows, rowsPerStatement: 10_000)
        }),
    ]
    /// utime + stime of a process in milliseconds (Linux /proc; the server runs on this machine).
    func cpuMilliseconds(pid: Int64) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "comm)": state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return (user + system) * 1000 / sysconf(Int32(_SC_CLK_TCK))
    }
    let postgresConfiguration = Benchmark.Configuration(metrics: [.wallClock, .cpuTotal, rowsPerSecond, serverCPU],
                                                        warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 12)
    for (name, load) in paths {
        Benchmark("PostgreSQL \(name) 100k rows", configuration: postgresConfiguration) {
            (benchmark: Benchmark, state: (connection: PostgresConnection, backend: Int64)) async throws in
            try await state.connection.execute("TRUNCATE \(schema).samples")
            let before = cpuMilliseconds(pid: state.backend)
            try await measure(benchmark) { try await load(state.connection) }
            if let before, let after = cpuMilliseconds(pid: state.backend) {
                benchmark.measurement(serverCPU, after - before)
            }
        } setup: { () async throws in
            let connection = try await PostgresConnection.connect(configuration)
            try await connection.execute("""
                DROP SCHEMA IF EXISTS \(schema) CASCADE;
                CREATE SCHEMA \(schema);
                CREATE TABLE \(schema).samples (series_id int NOT NULL, ts bigint NOT NULL, value double precision NOT NULL,
                                                PRIMARY KEY (series_id, ts));
                """)
            let backend = try await connection.query("SELECT pg_backend_pid()::int8")[0].decode(Int64.self, at: 0)
            return (connection: connection, backend: backend)
        } teardown: {
            let connection = try await PostgresConnection.connect(configuration)
            try await connection.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            await connection.close()
        }
    }
}
