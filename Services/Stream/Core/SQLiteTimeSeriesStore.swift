import Logging
import Migrations
import SQLite
import Synchronization

/// The embedded default store: one SQLite file in WAL mode.
///
/// `samples` is a `WITHOUT ROWID` table keyed by (series_id, ts), so the key is the table and a duplicate
/// insert is skipped by `INSERT OR IGNORE`.
public final class SQLiteTimeSeriesStore: TimeSeriesStore {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "stream time series", sql: """
            CREATE TABLE series (
                id INTEGER PRIMARY KEY,
                group_id TEXT NOT NULL,
                edge_node TEXT NOT NULL,
                device TEXT NOT NULL,
                metric TEXT NOT NULL,
                datatype TEXT,
                unit TEXT,
                asset_path TEXT,
                stale_since INTEGER,
                UNIQUE (group_id, edge_node, device, metric)
            );
            CREATE INDEX series_by_asset ON series (asset_path, metric);
            CREATE TABLE samples (
                series_id INTEGER NOT NULL REFERENCES series (id),
                ts INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                value_num REAL,
                value_text TEXT,
                quality INTEGER NOT NULL,
                PRIMARY KEY (series_id, ts)
            ) WITHOUT ROWID;
            CREATE TABLE births (
                group_id TEXT NOT NULL,
                edge_node TEXT NOT NULL,
                device TEXT NOT NULL,
                payload BLOB NOT NULL,
                received_at INTEGER NOT NULL,
                PRIMARY KEY (group_id, edge_node, device)
            );
            CREATE TABLE dead_letters (
                id INTEGER PRIMARY KEY,
                topic TEXT NOT NULL,
                reason TEXT NOT NULL,
                payload BLOB NOT NULL,
                received_at INTEGER NOT NULL
            );
            """),
        // Rollups for Grafana and long-range history; `sum` keeps the average exact as batches add up.
        // Existing samples are rolled up once here; from then on each write adds what it inserted.
        Migration(version: 2, name: "rollups 1m and 1h", sql: """
            CREATE TABLE samples_1m (
                series_id INTEGER NOT NULL, bucket INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
                avg REAL NOT NULL, count INTEGER NOT NULL, sum REAL NOT NULL,
                PRIMARY KEY (series_id, bucket)
            ) WITHOUT ROWID;
            CREATE TABLE samples_1h (
                series_id INTEGER NOT NULL, bucket INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
                avg REAL NOT NULL, count INTEGER NOT NULL, sum REAL NOT NULL,
                PRIMARY KEY (series_id, bucket)
            ) WITHOUT ROWID;
            INSERT INTO samples_1m (series_id, bucket, min, max, avg, count, sum)
                SELECT series_id, ts - ts % 60000, min(value_num), max(value_num), avg(value_num), count(*),
                       sum(value_num)
                FROM samples WHERE kind = 1 AND quality = 192 AND value_num IS NOT NULL
                    AND abs(value_num) <= 1.7976931348623157e308
                GROUP BY 1, 2;
            INSERT INTO samples_1h (series_id, bucket, min, max, avg, count, sum)
                SELECT series_id, bucket - bucket % 3600000, min(min), max(max), sum(sum) / sum(count), sum(count),
                       sum(sum)
                FROM samples_1m GROUP BY 1, 2;
            """),
    ]

    /// Adds a batch's aggregates to a rollup table; SET expressions read the row as it was before the update.
    static func rollupUpsert(_ width: RollupWidth) -> String {
        let table = width.table
        return """
            INSERT INTO \(table) (series_id, bucket, min, max, avg, count, sum) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (series_id, bucket) DO UPDATE SET
                min = min(\(table).min, excluded.min), max = max(\(table).max, excluded.max),
                avg = (\(table).sum + excluded.sum) / (\(table).count + excluded.count),
                count = \(table).count + excluded.count, sum = \(table).sum + excluded.sum
            """
    }

    private let database: SQLiteDatabase
    /// Series ids already known to be committed; filled only after a commit, so a rolled-back id is never
    /// cached.
    private let seriesIDs = Mutex<[SeriesKey: Int64]>([:])

    private init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Opens (creating) the file at `path`.
    public static func open(path: String) async throws -> SQLiteTimeSeriesStore {
        SQLiteTimeSeriesStore(database: try await SQLiteDatabase.open(SQLiteConfiguration(path: path)))
    }

    public func prepare(logger: Logger) async throws {
        do {
            try await database.migrate(Self.migrations, logger: logger)
        } catch {
            // Several instances opening one new file race to create the tables; the loser finds them
            // recorded on a second look (a real failure fails again and is thrown).
            try await Task.sleep(for: .milliseconds(100))
            try await database.migrate(Self.migrations, logger: logger)
        }
    }

    public func write(_ batch: StoreBatch) async throws -> Int {
        guard !batch.isEmpty else { return 0 }
        let known = seriesIDs.withLock { $0 }
        let (inserted, newIDs) = try await database.transaction { session -> (Int, [SeriesKey: Int64]) in
            var ids = known
            var newIDs: [SeriesKey: Int64] = [:]
            let ensure = try session.prepare("""
                INSERT INTO series (group_id, edge_node, device, metric) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """)
            let lookup = try session.prepare("""
                SELECT id FROM series WHERE group_id = ? AND edge_node = ? AND device = ? AND metric = ?
                """)
            for key in batch.seriesKeys where ids[key] == nil {
                let binds: [SQLiteValue] = [.text(key.node.group), .text(key.node.edgeNode),
                                            .text(EdgeNodeID.deviceColumn(key.device)), .text(key.metric)]
                _ = try ensure.run(binds)
                guard let row = try lookup.query(binds).first else { continue }
                let id = try row.decode(Int64.self, at: 0)
                ids[key] = id
                newIDs[key] = id
            }
            let define = try session.prepare("""
                UPDATE series SET datatype = ?, unit = ?, asset_path = ?, stale_since = NULL WHERE id = ?
                """)
            for info in batch.series {
                guard let id = ids[info.key] else { continue }
                _ = try define.run([.text(info.datatype.description), info.unit.map(SQLiteValue.text) ?? .null,
                                    info.assetPath.map(SQLiteValue.text) ?? .null, .integer(id)])
            }
            // Many rows per statement: one bind-and-step per 100 samples instead of per sample roughly halves
            // the insert time (bench/stream).
            let rowsPerStatement = 100
            func insertSQL(_ rows: Int) -> String {
                "INSERT OR IGNORE INTO samples (series_id, ts, kind, value_num, value_text, quality) VALUES "
                    + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
            }
            let rollups = try Self.rollups(of: batch.samples, ids: ids, session: session)
            let insertMany = try session.prepare(insertSQL(rowsPerStatement))
            var inserted = 0
            var binds: [SQLiteValue] = []
            binds.reserveCapacity(rowsPerStatement * 6)
            var pending = 0
            for sample in batch.samples {
                guard let id = ids[sample.series] else { continue }
                let (kind, number, text) = SampleKind.of(sample.value)
                binds += [.integer(id), .integer(Int64(clamping: sample.timestamp)), .integer(kind.rawValue),
                          number.map(SQLiteValue.real) ?? .null, text.map(SQLiteValue.text) ?? .null,
                          .integer(Int64(sample.quality.rawValue))]
                pending += 1
                if pending == rowsPerStatement {
                    inserted += try insertMany.run(binds)
                    binds.removeAll(keepingCapacity: true)
                    pending = 0
                }
            }
            if pending > 0 {
                inserted += try session.prepare(insertSQL(pending)).run(binds)
            }
            for (width, aggregates) in rollups.buckets where !aggregates.isEmpty {
                let upsert = try session.prepare(Self.rollupUpsert(width))
                for (key, aggregate) in aggregates {
                    _ = try upsert.run([.integer(key.series), .integer(key.bucket), .real(aggregate.min),
                                        .real(aggregate.max), .real(aggregate.sum / Double(aggregate.count)),
                                        .integer(aggregate.count), .real(aggregate.sum)])
                }
            }
            let stale = try session.prepare("UPDATE series SET stale_since = ? WHERE id = ?")
            for (key, at) in batch.stale {
                guard let id = ids[key] else { continue }
                _ = try stale.run([.integer(Int64(clamping: at)), .integer(id)])
            }
            for birth in batch.births {
                if birth.device == nil {
                    _ = try session.run("DELETE FROM births WHERE group_id = ? AND edge_node = ?",
                                        [.text(birth.node.group), .text(birth.node.edgeNode)])
                }
                _ = try session.run("""
                    INSERT OR REPLACE INTO births (group_id, edge_node, device, payload, received_at)
                    VALUES (?, ?, ?, ?, ?)
                    """, [.text(birth.node.group), .text(birth.node.edgeNode),
                          .text(EdgeNodeID.deviceColumn(birth.device)), .blob(birth.payload),
                          .integer(Int64(clamping: birth.receivedAt))])
            }
            let dead = try session.prepare("""
                INSERT INTO dead_letters (topic, reason, payload, received_at) VALUES (?, ?, ?, ?)
                """)
            for letter in batch.deadLetters {
                _ = try dead.run([.text(letter.topic), .text(letter.reason), .blob(letter.payload),
                                  .integer(Int64(clamping: letter.receivedAt))])
            }
            return (inserted, newIDs)
        }
        seriesIDs.withLock { $0.merge(newIDs) { _, new in new } }
        return inserted
    }

    /// The rollup contributions of the samples this transaction will actually insert: not those already
    /// stored (a redelivery or replay) and, within the batch, only the first of a (series, ts) pair, the one
    /// `INSERT OR IGNORE` keeps. The transaction holds the write lock (BEGIN IMMEDIATE), so what it reads
    /// here cannot change before the insert.
    static func rollups(of samples: [Sample], ids: [SeriesKey: Int64],
                        session: SQLiteSession) throws -> RollupAccumulator {
        // One range read per series: for live data, which is newer than anything stored, it finds nothing.
        var ranges: [Int64: (Int64, Int64)] = [:]
        for sample in samples {
            guard let id = ids[sample.series] else { continue }
            let ts = Int64(clamping: sample.timestamp)
            if let (low, high) = ranges[id] {
                ranges[id] = (min(low, ts), max(high, ts))
            } else {
                ranges[id] = (ts, ts)
            }
        }
        var taken = Set<RollupAccumulator.Key>()
        let existing = try session.prepare("SELECT ts FROM samples WHERE series_id = ? AND ts BETWEEN ? AND ?")
        for (id, (low, high)) in ranges {
            for row in try existing.query([.integer(id), .integer(low), .integer(high)]) {
                taken.insert(RollupAccumulator.Key(series: id, bucket: try row.decode(Int64.self, at: 0)))
            }
        }
        var rollups = RollupAccumulator()
        for sample in samples {
            guard let id = ids[sample.series] else { continue }
            let ts = Int64(clamping: sample.timestamp)
            guard taken.insert(RollupAccumulator.Key(series: id, bucket: ts)).inserted else { continue }
            let (kind, number, _) = SampleKind.of(sample.value)
            if let value = RollupAccumulator.counts(kind: kind, number: number, quality: sample.quality) {
                rollups.add(series: id, timestamp: ts, value: value)
            }
        }
        return rollups
    }

    public func births() async throws -> [StoredBirth] {
        try await database.query("""
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
        return try await database.query("""
            SELECT s.ts, s.kind, s.value_num, s.value_text, s.quality FROM samples s
            JOIN series ON series.id = s.series_id
            WHERE series.asset_path = ? AND series.metric = ? AND s.ts >= ? AND s.ts <= ?
            ORDER BY s.ts LIMIT ?
            """, [.text(asset), .text(metric), .integer(lower), .integer(Int64(clamping: to)),
                  .integer(Int64(limit))]).map { row in
            StoredSample(timestamp: UInt64(clamping: try row.decode(Int64.self, at: 0)),
                         value: SampleKind.value(kind: try row.decode(Int64.self, at: 1),
                                                 number: try row.decode(Double?.self, at: 2),
                                                 text: try row.decode(String?.self, at: 3)),
                         quality: SampleQuality(rawValue: Int32(clamping: try row.decode(Int64.self, at: 4))) ?? .good)
        }
    }

    public func deadLetters(limit: Int) async throws -> [DeadLetter] {
        try await database.query("""
            SELECT topic, reason, payload, received_at FROM dead_letters ORDER BY id DESC LIMIT ?
            """, [.integer(Int64(limit))]).map { row in
            DeadLetter(topic: try row.decode(String.self, at: 0), reason: try row.decode(String.self, at: 1),
                       payload: try row.decode([UInt8].self, at: 2),
                       receivedAt: UInt64(clamping: try row.decode(Int64.self, at: 3)))
        }
    }

    public func deleteSamples(before timestamp: UInt64) async throws -> Int {
        try await database.run("DELETE FROM samples WHERE ts < ?", [.integer(Int64(clamping: timestamp))])
    }

    public func deleteRollups(before timestamp: UInt64) async throws -> Int {
        try await database.transaction { session in
            try RollupWidth.allCases.reduce(0) { deleted, width in
                deleted + (try session.run("DELETE FROM \(width.table) WHERE bucket < ?", [.integer(Int64(clamping: timestamp))]))
            }
        }
    }

    public func rollups(asset: String, metric: String, width: RollupWidth, from: UInt64, to: UInt64,
                        limit: Int) async throws -> [Rollup] {
        try await database.query("""
            SELECT r.bucket, r.min, r.max, r.avg, r.count FROM \(width.table) r
            JOIN series ON series.id = r.series_id
            WHERE series.asset_path = ? AND series.metric = ? AND r.bucket >= ? AND r.bucket <= ?
            ORDER BY r.bucket LIMIT ?
            """, [.text(asset), .text(metric), .integer(Int64(clamping: from)), .integer(Int64(clamping: to)),
                  .integer(Int64(limit))]).map { row in
            Rollup(bucket: UInt64(clamping: try row.decode(Int64.self, at: 0)), min: try row.decode(Double.self, at: 1),
                   max: try row.decode(Double.self, at: 2), avg: try row.decode(Double.self, at: 3),
                   count: try row.decode(Int64.self, at: 4))
        }
    }

    /// SQLite has no partitions to prepare; retention is a DELETE.
    public func maintain(now: UInt64, sampleRetention: UInt64, logger: Logger) async throws {}

    public func counts() async throws -> StoreCounts {
        let row = try await database.query("""
            SELECT (SELECT count(*) FROM series), (SELECT count(*) FROM samples), (SELECT count(*) FROM dead_letters)
            """)
        guard let row = row.first else { return StoreCounts(series: 0, samples: 0, deadLetters: 0) }
        return StoreCounts(series: Int(try row.decode(Int64.self, at: 0)), samples: Int(try row.decode(Int64.self, at: 1)),
                           deadLetters: Int(try row.decode(Int64.self, at: 2)))
    }

    public func close() async {
        await database.close()
    }
}
