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
    ]

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
            let inserted = rows.isEmpty ? 0 : try session.bulkLoad(
                into: "samples", columns: ["series_id", "ts", "kind", "value_num", "value_text", "quality"],
                rows: rows, ignoringDuplicates: true)
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

    public func deleteSamples(before timestamp: UInt64) async throws -> Int {
        try await connection.run("DELETE FROM samples WHERE ts < $1", [.int64(Int64(clamping: timestamp))])
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
