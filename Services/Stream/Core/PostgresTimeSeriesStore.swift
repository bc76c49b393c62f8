import Foundation
import Logging
import Migrations
import Postgres
import Synchronization

/// The shared store for several `stream` instances: PostgreSQL, with `samples` a TimescaleDB hypertable
/// (1-day chunks on the millisecond `ts`) where the extension can be created, otherwise a plain table with
/// the (series_id, ts) primary key. Samples go in by binary COPY into a staging table and
/// `INSERT … ON CONFLICT DO NOTHING`, so redelivery never duplicates.
public final class PostgresTimeSeriesStore: TimeSeriesStore {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "stream time series", sql: """
            CREATE TABLE series (
                id bigserial PRIMARY KEY,
                group_id text NOT NULL,
                edge_node text NOT NULL,
                device text NOT NULL,
                metric text NOT NULL,
                datatype text,
                unit text,
                asset_path text,
                stale_since bigint,
                UNIQUE (group_id, edge_node, device, metric)
            );
            CREATE INDEX series_by_asset ON series (asset_path, metric);
            CREATE TABLE samples (
                series_id bigint NOT NULL,
                ts bigint NOT NULL,
                kind bigint NOT NULL,
                value_num double precision,
                value_text text,
                quality bigint NOT NULL,
                PRIMARY KEY (series_id, ts)
            );
            CREATE TABLE births (
                group_id text NOT NULL,
                edge_node text NOT NULL,
                device text NOT NULL,
                payload bytea NOT NULL,
                received_at bigint NOT NULL,
                PRIMARY KEY (group_id, edge_node, device)
            );
            CREATE TABLE dead_letters (
                id bigserial PRIMARY KEY,
                topic text NOT NULL,
                reason text NOT NULL,
                payload bytea NOT NULL,
                received_at bigint NOT NULL
            );
            """),
        // TimescaleDB needs shared_preload_libraries; where it is missing or cannot load, the plain table
        // with its primary key stays (a NOTICE says why).
        Migration(version: 2, name: "samples hypertable where timescaledb exists", sql: """
            DO $$
            BEGIN
                IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
                    BEGIN
                        CREATE EXTENSION IF NOT EXISTS timescaledb;
                        PERFORM create_hypertable('samples', 'ts', chunk_time_interval => 86400000,
                                                  migrate_data => true);
                    EXCEPTION WHEN OTHERS THEN
                        RAISE NOTICE 'timescaledb unavailable (%), samples stays a plain table', SQLERRM;
                    END;
                END IF;
            END
            $$;
            """),
        // Rollups (with `sum`, so the average stays exact as batches add up), rolled up once from existing
        // samples. Then `samples` becomes what the server supports best: on a TimescaleDB hypertable,
        // compression (segmented by series, chunks older than 7 days) with an integer "now" in ms for the
        // policies; otherwise a table range-partitioned by `ts` with a default partition, so no insert ever
        // fails while the store creates the day partitions ahead (`maintain`). The plain table of earlier
        // versions is converted here, its rows kept (in the default partition until they age out).
        Migration(version: 3, name: "rollups; samples partitioned by time or compressed", sql: """
            CREATE TABLE samples_1m (
                series_id bigint NOT NULL, bucket bigint NOT NULL, min double precision NOT NULL,
                max double precision NOT NULL, avg double precision NOT NULL, count bigint NOT NULL,
                sum double precision NOT NULL,
                PRIMARY KEY (series_id, bucket)
            );
            CREATE TABLE samples_1h (LIKE samples_1m INCLUDING ALL);
            INSERT INTO samples_1m (series_id, bucket, min, max, avg, count, sum)
                SELECT series_id, ts - ts % 60000, min(value_num), max(value_num), avg(value_num), count(*),
                       sum(value_num)
                FROM samples WHERE kind = 1 AND quality = 192 AND value_num IS NOT NULL
                    AND value_num NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
                GROUP BY 1, 2;
            INSERT INTO samples_1h (series_id, bucket, min, max, avg, count, sum)
                SELECT series_id, bucket - bucket % 3600000, min(min), max(max), sum(sum) / sum(count), sum(count),
                       sum(sum)
                FROM samples_1m GROUP BY 1, 2;
            DO $$
            DECLARE
                hypertable boolean := false;
            BEGIN
                IF to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL THEN
                    EXECUTE 'SELECT EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable
                                            WHERE schema_name = current_schema() AND table_name = ''samples'')'
                        INTO hypertable;
                END IF;
                IF hypertable THEN
                    EXECUTE $f$CREATE OR REPLACE FUNCTION stream_now_ms() RETURNS bigint LANGUAGE sql STABLE
                               AS 'SELECT (extract(epoch FROM now()) * 1000)::bigint'$f$;
                    PERFORM set_integer_now_func('samples', 'stream_now_ms', replace_if_exists => true);
                    ALTER TABLE samples SET (timescaledb.compress, timescaledb.compress_segmentby = 'series_id',
                                             timescaledb.compress_orderby = 'ts');
                    PERFORM add_compression_policy('samples', compress_after => BIGINT '604800000',
                                                   if_not_exists => true);
                ELSE
                    ALTER TABLE samples RENAME TO samples_unpartitioned;
                    ALTER INDEX samples_pkey RENAME TO samples_unpartitioned_pkey;
                    CREATE TABLE samples (
                        series_id bigint NOT NULL,
                        ts bigint NOT NULL,
                        kind bigint NOT NULL,
                        value_num double precision,
                        value_text text,
                        quality bigint NOT NULL,
                        PRIMARY KEY (series_id, ts)
                    ) PARTITION BY RANGE (ts);
                    CREATE TABLE samples_default PARTITION OF samples DEFAULT;
                    INSERT INTO samples SELECT * FROM samples_unpartitioned;
                    DROP TABLE samples_unpartitioned;
                END IF;
            END
            $$;
            """),
    ]

    /// Native partitions are created this many days ahead, so the default partition stays empty.
    static let partitionDaysAhead: UInt64 = 3
    static let day: UInt64 = 86_400_000

    /// One statement per batch: insert the staged samples, skip those already stored, and add exactly the
    /// inserted ones (RETURNING) to both rollup tables. Each rollup key appears once (GROUP BY), as
    /// `ON CONFLICT DO UPDATE` requires; data-modifying CTEs always run to completion.
    static let insertSamplesAndRollups: String = {
        func upsert(_ width: RollupWidth) -> String {
            let table = width.table
            return """
                \(width == .minute ? "m" : "h") AS (
                    INSERT INTO \(table) AS r (series_id, bucket, min, max, avg, count, sum)
                    SELECT series_id, ts - ts % \(width.rawValue), min(value_num), max(value_num), avg(value_num),
                           count(*), sum(value_num)
                    FROM counted GROUP BY 1, 2
                    ON CONFLICT (series_id, bucket) DO UPDATE SET
                        min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max),
                        avg = (r.sum + EXCLUDED.sum) / (r.count + EXCLUDED.count),
                        count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum
                    RETURNING 1
                )
                """
        }
        return """
            WITH inserted AS (
                INSERT INTO samples (series_id, ts, kind, value_num, value_text, quality)
                SELECT series_id, ts, kind, value_num, value_text, quality FROM pg_temp.stream_stage
                ON CONFLICT DO NOTHING
                RETURNING series_id, ts, kind, value_num, quality
            ), counted AS (
                SELECT series_id, ts, value_num FROM inserted
                WHERE kind = 1 AND quality = 192 AND value_num IS NOT NULL
                    AND value_num NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
            ), \(upsert(.minute)), \(upsert(.hour))
            SELECT count(*) FROM inserted
            """
    }()

    private let configuration: PostgresConfiguration
    private let current: Mutex<PostgresConnection>
    private let schema: String?
    private let seriesIDs = Mutex<[SeriesKey: Int64]>([:])

    private init(connection: PostgresConnection, configuration: PostgresConfiguration, schema: String?) {
        self.current = Mutex(connection)
        self.configuration = configuration
        self.schema = schema
    }

    /// The connection in use; replaced by `recover(from:)` when the server dropped it.
    private var connection: PostgresConnection { current.withLock { $0 } }

    /// `PostgresConnection` does not reconnect by itself: after a failure that means the connection is gone
    /// (no SQLSTATE, class 08 connection exception, 57P01 admin shutdown) the store opens a new one, so the
    /// loader's retry of the same batch can succeed.
    private func recover(from error: any Error) async {
        guard let failure = error as? PostgresError,
              [.queryFailed, .copyFailed, .closed, .connectionFailed].contains(failure.code),
              failure.sqlState.map({ $0.hasPrefix("08") || $0 == "57P01" }) ?? true,
              let fresh = try? await Self.open(configuration, schema: schema) else { return }
        let old = current.withLock { connection in
            defer { connection = fresh }
            return connection
        }
        await old.close()
    }

    private static func open(_ configuration: PostgresConfiguration, schema: String?) async throws -> PostgresConnection {
        let connection = try await PostgresConnection.connect(configuration)
        if let schema {
            try await connection.execute("CREATE SCHEMA IF NOT EXISTS \"\(schema)\"; SET search_path TO \"\(schema)\"")
        }
        return connection
    }

    /// Connects; with `schema`, creates it if needed and works inside it (tests use one per run).
    public static func connect(_ configuration: PostgresConfiguration,
                               schema: String? = nil) async throws -> PostgresTimeSeriesStore {
        PostgresTimeSeriesStore(connection: try await open(configuration, schema: schema), configuration: configuration,
                                schema: schema)
    }

    public func prepare(logger: Logger) async throws {
        try await connection.migrate(Self.migrations, logger: logger)
    }

    public func write(_ batch: StoreBatch) async throws -> Int {
        do {
            return try await writeOnce(batch)
        } catch {
            await recover(from: error)
            throw error
        }
    }

    /// The backend process id of the current connection (tests end it to simulate a dropped connection).
    public func backendPID() async throws -> Int64 {
        try await connection.query("SELECT pg_backend_pid()::int8").first?.decode(Int64.self, at: 0) ?? 0
    }

    private func writeOnce(_ batch: StoreBatch) async throws -> Int {
        guard !batch.isEmpty else { return 0 }
        let known = seriesIDs.withLock { $0 }
        let (inserted, newIDs) = try await connection.transaction { session -> (Int, [SeriesKey: Int64]) in
            var ids = known
            var newIDs: [SeriesKey: Int64] = [:]
            let ensure = try session.prepare("""
                INSERT INTO series (group_id, edge_node, device, metric) VALUES ($1, $2, $3, $4)
                ON CONFLICT DO NOTHING
                """)
            let lookup = try session.prepare("""
                SELECT id FROM series WHERE group_id = $1 AND edge_node = $2 AND device = $3 AND metric = $4
                """)
            for key in batch.seriesKeys where ids[key] == nil {
                let binds: [PostgresValue] = [.text(key.node.group), .text(key.node.edgeNode),
                                              .text(EdgeNodeID.deviceColumn(key.device)), .text(key.metric)]
                _ = try ensure.run(binds)
                guard let row = try lookup.query(binds).first else { continue }
                let id = try row.decode(Int64.self, at: 0)
                ids[key] = id
                newIDs[key] = id
            }
            for info in batch.series {
                guard let id = ids[info.key] else { continue }
                _ = try session.run("""
                    UPDATE series SET datatype = $1, unit = $2, asset_path = $3, stale_since = NULL WHERE id = $4
                    """, [.text(info.datatype.description), info.unit.map(PostgresValue.text) ?? .null,
                          info.assetPath.map(PostgresValue.text) ?? .null, .int64(id)])
            }
            var rows: [[PostgresValue]] = []
            rows.reserveCapacity(batch.samples.count)
            for sample in batch.samples {
                guard let id = ids[sample.series] else { continue }
                let (kind, number, text) = SampleKind.of(sample.value)
                rows.append([.int64(id), .int64(Int64(clamping: sample.timestamp)), .int64(kind.rawValue),
                             number.map(PostgresValue.double) ?? .null, text.map(PostgresValue.text) ?? .null,
                             .int64(Int64(sample.quality.rawValue))])
            }
            var inserted = 0
            if !rows.isEmpty {
                // Kept for the connection, emptied by every commit. Two samples with one key in a batch: the
                // second conflicts with the first and is skipped, so the first wins, as in SQLite.
                try session.execute("""
                    CREATE TEMPORARY TABLE IF NOT EXISTS stream_stage (
                        series_id bigint, ts bigint, kind bigint, value_num double precision,
                        value_text text, quality bigint
                    ) ON COMMIT DELETE ROWS
                    """)
                try session.copy(into: "stream_stage", schema: "pg_temp",
                                 columns: ["series_id", "ts", "kind", "value_num", "value_text", "quality"],
                                 rows: rows, format: .binary)
                inserted = Int(try session.query(Self.insertSamplesAndRollups).first?.decode(Int64.self, at: 0) ?? 0)
            }
            for (key, at) in batch.stale {
                guard let id = ids[key] else { continue }
                _ = try session.run("UPDATE series SET stale_since = $1 WHERE id = $2",
                                    [.int64(Int64(clamping: at)), .int64(id)])
            }
            for birth in batch.births {
                if birth.device == nil {
                    _ = try session.run("DELETE FROM births WHERE group_id = $1 AND edge_node = $2",
                                        [.text(birth.node.group), .text(birth.node.edgeNode)])
                }
                _ = try session.run("""
                    INSERT INTO births (group_id, edge_node, device, payload, received_at) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (group_id, edge_node, device)
                    DO UPDATE SET payload = EXCLUDED.payload, received_at = EXCLUDED.received_at
                    """, [.text(birth.node.group), .text(birth.node.edgeNode),
                          .text(EdgeNodeID.deviceColumn(birth.device)), .bytes(birth.payload),
                          .int64(Int64(clamping: birth.receivedAt))])
            }
            for letter in batch.deadLetters {
                _ = try session.run("""
                    INSERT INTO dead_letters (topic, reason, payload, received_at) VALUES ($1, $2, $3, $4)
                    """, [.text(letter.topic), .text(letter.reason), .bytes(letter.payload),
                          .int64(Int64(clamping: letter.receivedAt))])
            }
            return (inserted, newIDs)
        }
        seriesIDs.withLock { $0.merge(newIDs) { _, new in new } }
        return inserted
    }

    public func births() async throws -> [StoredBirth] {
        try await connection.query("""
            SELECT group_id, edge_node, device, payload, received_at FROM births
            ORDER BY group_id, edge_node, device <> '', device
            """).map { row in
            let device = try row.decode(String.self, at: 2)
            return StoredBirth(node: EdgeNodeID(group: try row.decode(String.self, at: 0),
                                                edgeNode: try row.decode(String.self, at: 1)),
                               device: device.isEmpty ? nil : device, payload: try row.decode([UInt8].self, at: 3),
                               receivedAt: UInt64(clamping: try row.decode(Int64.self, at: 4)))
        }
    }

    public func samples(asset: String, metric: String, from: UInt64, to: UInt64, after: UInt64?,
                        limit: Int) async throws -> [StoredSample] {
        let lower = max(Int64(clamping: from), after.map { Int64(clamping: $0) + 1 } ?? Int64.min)
        return try await connection.query("""
            SELECT s.ts, s.kind, s.value_num, s.value_text, s.quality FROM samples s
            JOIN series ON series.id = s.series_id
            WHERE series.asset_path = $1 AND series.metric = $2 AND s.ts >= $3 AND s.ts <= $4
            ORDER BY s.ts LIMIT $5
            """, [.text(asset), .text(metric), .int64(lower), .int64(Int64(clamping: to)), .int64(Int64(limit))])
            .map { row in
                StoredSample(timestamp: UInt64(clamping: try row.decode(Int64.self, at: 0)),
                             value: SampleKind.value(kind: try row.decode(Int64.self, at: 1),
                                                     number: try row.decode(Double?.self, at: 2),
                                                     text: try row.decode(String?.self, at: 3)),
                             quality: SampleQuality(rawValue: Int32(clamping: try row.decode(Int64.self, at: 4))) ?? .good)
            }
    }

    public func deadLetters(limit: Int) async throws -> [DeadLetter] {
        try await connection.query("""
            SELECT topic, reason, payload, received_at FROM dead_letters ORDER BY id DESC LIMIT $1
            """, [.int64(Int64(limit))]).map { row in
            DeadLetter(topic: try row.decode(String.self, at: 0), reason: try row.decode(String.self, at: 1),
                       payload: try row.decode([UInt8].self, at: 2),
                       receivedAt: UInt64(clamping: try row.decode(Int64.self, at: 3)))
        }
    }

    /// Partitioned: drops every day partition that ends at or before `timestamp` (a day partition that
    /// straddles it goes at the next run after its end), and deletes older rows from the default partition.
    /// Hypertable or plain table: a DELETE (TimescaleDB's retention policy drops whole chunks on its own).
    public func deleteSamples(before timestamp: UInt64) async throws -> Int {
        let cutoff = Int64(clamping: timestamp)
        return try await connection.transaction { session in
            guard try Self.isPartitioned(session) else {
                return try session.run("DELETE FROM samples WHERE ts < $1", [.int64(cutoff)])
            }
            var deleted = 0
            for (name, start) in try Self.dayPartitions(session) where start + Int64(Self.day) <= cutoff {
                deleted += Int(try session.query("SELECT count(*) FROM \(name)").first?.decode(Int64.self, at: 0) ?? 0)
                try session.execute("DROP TABLE \(name)")
            }
            return deleted + (try session.run("DELETE FROM samples_default WHERE ts < $1", [.int64(cutoff)]))
        }
    }

    public func deleteRollups(before timestamp: UInt64) async throws -> Int {
        try await connection.transaction { session in
            try RollupWidth.allCases.reduce(0) { deleted, width in
                deleted + (try session.run("DELETE FROM \(width.table) WHERE bucket < $1",
                                           [.int64(Int64(clamping: timestamp))]))
            }
        }
    }

    public func rollups(asset: String, metric: String, width: RollupWidth, from: UInt64, to: UInt64,
                        limit: Int) async throws -> [Rollup] {
        try await connection.query("""
            SELECT r.bucket, r.min, r.max, r.avg, r.count FROM \(width.table) r
            JOIN series ON series.id = r.series_id
            WHERE series.asset_path = $1 AND series.metric = $2 AND r.bucket >= $3 AND r.bucket <= $4
            ORDER BY r.bucket LIMIT $5
            """, [.text(asset), .text(metric), .int64(Int64(clamping: from)), .int64(Int64(clamping: to)),
                  .int64(Int64(limit))]).map { row in
            Rollup(bucket: UInt64(clamping: try row.decode(Int64.self, at: 0)), min: try row.decode(Double.self, at: 1),
                   max: try row.decode(Double.self, at: 2), avg: try row.decode(Double.self, at: 3),
                   count: try row.decode(Int64.self, at: 4))
        }
    }

    /// Creates the partitions of the day of `now` and the next `partitionDaysAhead` days, each in its own
    /// transaction under an advisory lock (several instances run this). Rows that already sit in the default
    /// partition for that day move into the new partition, since PostgreSQL refuses to create a partition
    /// whose rows are in the default one. A hypertable needs nothing: TimescaleDB makes its chunks.
    public func maintain(now: UInt64, sampleRetention: UInt64, logger: Logger) async throws {
        try await applyRetentionPolicy(age: sampleRetention)
        let today = now - now % Self.day
        for offset in 0...Self.partitionDaysAhead {
            let start = Int64(clamping: today + offset * Self.day)
            let name = Self.partitionName(dayStart: start)
            let created = try await connection.transaction { session -> Bool in
                guard try Self.isPartitioned(session) else { return false }
                _ = try session.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.samples'))")
                guard try session.query("SELECT to_regclass($1) IS NULL", [.text(name)]).first?
                    .decode(Bool.self, at: 0) ?? false else { return false }
                let end = start + Int64(Self.day)
                try session.execute("""
                    CREATE TABLE \(name) (LIKE samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
                    INSERT INTO \(name) SELECT * FROM samples_default WHERE ts >= \(start) AND ts < \(end);
                    DELETE FROM samples_default WHERE ts >= \(start) AND ts < \(end);
                    ALTER TABLE samples ATTACH PARTITION \(name) FOR VALUES FROM (\(start)) TO (\(end))
                    """)
                return true
            }
            if created { logger.info("samples partition created", metadata: ["partition": "\(name)"]) }
        }
    }

    /// Keeps TimescaleDB's retention policy at `age` ms (none for 0); replaced only when the age changed, so
    /// the policy's schedule is not reset on every run. Does nothing without a hypertable.
    func applyRetentionPolicy(age: UInt64) async throws {
        try await connection.transaction { session in
            guard try session.query("SELECT to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL").first?
                .decode(Bool.self, at: 0) ?? false,
                try session.query("""
                    SELECT EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable
                                   WHERE schema_name = current_schema() AND table_name = 'samples')
                    """).first?.decode(Bool.self, at: 0) ?? false else { return }
            let current = try session.query("""
                SELECT config->>'drop_after' FROM timescaledb_information.jobs
                WHERE proc_name = 'policy_retention' AND hypertable_schema = current_schema()
                    AND hypertable_name = 'samples'
                """).first?.decode(String?.self, at: 0)
            guard current != (age > 0 ? "\(age)" : nil) else { return }
            _ = try session.query("SELECT remove_retention_policy('samples', if_exists => true)")
            if age > 0 {
                _ = try session.query("SELECT add_retention_policy('samples', drop_after => $1::bigint)",
                                      [.int64(Int64(clamping: age))])
            }
        }
    }

    static func partitionName(dayStart: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(dayStart) / 1_000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        let year = parts.year ?? 1970, month = parts.month ?? 1, day = parts.day ?? 1
        return "samples_d" + String(format: "%04d%02d%02d", year, month, day)
    }

    /// True when `samples` is a natively partitioned table (not a hypertable or the plain table).
    static func isPartitioned(_ session: PostgresSession) throws -> Bool {
        try session.query("SELECT relkind::text = 'p' FROM pg_class WHERE oid = 'samples'::regclass").first?
            .decode(Bool.self, at: 0) ?? false
    }

    /// The day partitions of `samples` (named `samples_dYYYYMMDD` by `maintain`) with their start (ms).
    static func dayPartitions(_ session: PostgresSession) throws -> [(String, Int64)] {
        try session.query("""
            SELECT c.relname::text, extract(epoch FROM to_date(substr(c.relname::text, 10), 'YYYYMMDD'))::int8 * 1000
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'samples'::regclass AND c.relname ~ '^samples_d[0-9]{8}$'
            ORDER BY 1
            """).map { row in (try row.decode(String.self, at: 0), try row.decode(Int64.self, at: 1)) }
    }

    public func counts() async throws -> StoreCounts {
        let rows = try await connection.query("""
            SELECT (SELECT count(*) FROM series), (SELECT count(*) FROM samples), (SELECT count(*) FROM dead_letters)
            """)
        guard let row = rows.first else { return StoreCounts(series: 0, samples: 0, deadLetters: 0) }
        return StoreCounts(series: Int(try row.decode(Int64.self, at: 0)), samples: Int(try row.decode(Int64.self, at: 1)),
                           deadLetters: Int(try row.decode(Int64.self, at: 2)))
    }

    /// Drops the schema given to `connect` (tests), then closes.
    public func dropSchemaAndClose() async {
        if let schema { _ = try? await connection.execute("DROP SCHEMA \"\(schema)\" CASCADE") }
        await connection.close()
    }

    public func close() async {
        await connection.close()
    }
}

/// Opens the store a `StoreLocation` names.
public enum TimeSeriesStores {
    public static func open(_ location: StoreLocation) async throws -> any TimeSeriesStore {
        switch location {
        case .sqlite(let path): try await SQLiteTimeSeriesStore.open(path: path)
        case .postgres(let configuration): try await PostgresTimeSeriesStore.connect(configuration)
        }
    }
}
