import Foundation
import Logging
import Postgres
import Sparkplug
@testable import StreamCore
import Testing
import TestSupport

/// Rollups maintained as data arrives, and retention, against both stores.
@Suite("Rollups and retention")
struct RollupRetentionTests {
    static let node = EdgeNodeID(group: "g", edgeNode: "e")
    static let asset = "acme/p1/a/l/press"
    static let key = SeriesKey(node: node, device: "press", metric: "temperature")
    /// 2026-11-22T08:00:00Z: every bucket boundary below is relative to it.
    static let hour: UInt64 = 1_795_334_400_000

    /// Numbers across two minutes and two hours, plus what rollups must leave out: a bad-quality value, a
    /// NaN, a text sample, and a second value for an existing (series, ts) that the store skips.
    static func batch(_ timestamps: [UInt64]) -> StoreBatch {
        var batch = StoreBatch()
        batch.series = [SeriesInfo(key: key, datatype: .double, unit: "°C", assetPath: asset)]
        batch.samples = timestamps.map { Sample(series: key, timestamp: $0, value: .number(Double($0 % 997) / 7)) }
        return batch
    }

    static let first: [UInt64] = [0, 1_000, 59_999, 60_000, 61_500, 3_600_000, 3_659_000].map { hour + $0 }
    /// Overlaps `first` (a redelivery of part of it) and adds new samples in the same buckets.
    static let second: [UInt64] = [59_999, 60_000, 60_001, 3_600_000, 3_600_500].map { hour + $0 }

    /// The rollups computed from the raw samples the store returns.
    static func expected(_ store: any TimeSeriesStore, width: RollupWidth) async throws -> [Rollup] {
        let raw = try await store.samples(asset: asset, metric: "temperature", from: 0, to: .max, after: nil,
                                          limit: 10_000)
        var buckets: [UInt64: [Double]] = [:]
        for sample in raw where sample.quality == .good {
            guard case .number(let value) = sample.value, value.isFinite else { continue }
            buckets[sample.timestamp - sample.timestamp % UInt64(width.rawValue), default: []].append(value)
        }
        return buckets.keys.sorted().map { bucket in
            let values = buckets[bucket] ?? []
            return Rollup(bucket: bucket, min: values.min() ?? 0, max: values.max() ?? 0,
                          avg: values.reduce(0, +) / Double(values.count), count: Int64(values.count))
        }
    }

    static func expectMatches(_ store: any TimeSeriesStore) async throws {
        for width in RollupWidth.allCases {
            let stored = try await store.rollups(asset: asset, metric: "temperature", width: width, from: 0, to: .max,
                                                 limit: 1_000)
            let computed = try await expected(store, width: width)
            #expect(stored.map(\.bucket) == computed.map(\.bucket), "\(width.table) buckets")
            #expect(stored.map(\.count) == computed.map(\.count), "\(width.table) counts")
            for (got, want) in zip(stored, computed) {
                #expect(got.min == want.min && got.max == want.max, "\(width.table) min/max at \(got.bucket)")
                #expect(abs(got.avg - want.avg) < 1e-9, "\(width.table) avg at \(got.bucket)")
            }
        }
    }

    /// Writes, redelivers, overlaps; the rollups always equal what the raw samples say.
    static func checkRollups(_ store: any TimeSeriesStore) async throws {
        try await store.prepare(logger: Logger(label: "test"))
        var mixed = batch(first)
        mixed.samples += [
            Sample(series: key, timestamp: hour + 2_000, value: .number(1_000), quality: .bad),
            Sample(series: key, timestamp: hour + 3_000, value: .number(.nan)),
            Sample(series: key, timestamp: hour + 1_000, value: .number(5_000)),  // same key as an earlier one
            Sample(series: SeriesKey(node: node, device: "press", metric: "recipe"), timestamp: hour,
                   value: .text("A-7")),
        ]
        #expect(try await store.write(mixed) == 10)
        try await expectMatches(store)
        let minute = try await store.rollups(asset: asset, metric: "temperature", width: .minute, from: 0, to: .max,
                                             limit: 10)
        // 0, 1 000 and 59 999 in the first minute: the bad value, the NaN and the skipped 5 000 do not count.
        #expect(minute.first?.count == 3)
        #expect(minute.first?.max ?? 0 < 1_000)
        // Redelivery of the same batch: nothing new, rollups unchanged.
        #expect(try await store.write(mixed) == 0)
        try await expectMatches(store)
        #expect(try await store.write(batch(second)) == 2)
        try await expectMatches(store)
        let hours = try await store.rollups(asset: asset, metric: "temperature", width: .hour, from: 0, to: .max,
                                            limit: 10)
        #expect(hours.map(\.count) == [5 + 1, 2 + 1])
        // Rollup retention: buckets before the second hour go, the rest stay.
        #expect(try await store.deleteRollups(before: hour + 3_600_000) == 2 + 1)
        #expect(try await store.rollups(asset: asset, metric: "temperature", width: .hour, from: 0, to: .max,
                                        limit: 10).map(\.bucket) == [hour + 3_600_000])
    }

    static func postgresConfiguration() throws -> PostgresConfiguration {
        PostgresConfiguration(
            host: try TestEnvironment.require("POSTGRES_HOST"), port: try TestEnvironment.requireInt("POSTGRES_PORT"),
            user: try TestEnvironment.require("POSTGRES_USER"), database: try TestEnvironment.require("POSTGRES_DB"))
    }

    static func schemaName() -> String {
        "stream_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    @Test("SQLite: rollups equal the raw samples, also after redelivery")
    func sqliteRollups() async throws {
        let store = try await SQLiteTimeSeriesStore.open(path: NSTemporaryDirectory() + "rollup-\(UUID().uuidString).db")
        try await Self.checkRollups(store)
        await store.close()
    }

    @Test("PostgreSQL: rollups equal the raw samples, also after redelivery")
    func postgresRollups() async throws {
        let store = try await PostgresTimeSeriesStore.connect(try Self.postgresConfiguration(), schema: Self.schemaName())
        do {
            try await Self.checkRollups(store)
        } catch {
            await store.dropSchemaAndClose()
            throw error
        }
        await store.dropSchemaAndClose()
    }

    @Test("SQLite: retention deletes raw samples older than the age and keeps the rollups")
    func sqliteRetention() async throws {
        let store = try await SQLiteTimeSeriesStore.open(path: NSTemporaryDirectory() + "retention-\(UUID().uuidString).db")
        try await store.prepare(logger: Logger(label: "test"))
        _ = try await store.write(Self.batch(Self.first))
        try await store.maintain(now: Self.hour, sampleRetention: 0, logger: Logger(label: "test"))
        #expect(try await store.deleteSamples(before: Self.hour + 3_600_000) == 5)
        #expect(try await store.counts().samples == 2)
        #expect(try await store.rollups(asset: Self.asset, metric: "temperature", width: .minute, from: 0, to: .max,
                                        limit: 10).count == 3)
        await store.close()
    }

    /// The partitions of `samples` in `schema`, by name.
    static func partitions(_ admin: PostgresConnection, schema: String) async throws -> [String] {
        try await admin.query("""
            SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = $1 AND p.relname = 'samples' ORDER BY c.relname::text COLLATE "C"
            """, [.text(schema)]).map { try $0.decode(String.self, at: 0) }
    }

    @Test("PostgreSQL: a plain samples table becomes day partitions; retention drops whole old partitions")
    func postgresPartitions() async throws {
        let configuration = try Self.postgresConfiguration()
        let schema = Self.schemaName()
        let logger = Logger(label: "test")
        // A database as an earlier version left it: migrations 1 and 2, a plain table with samples in it.
        let old = try await PostgresConnection.connect(configuration)
        try await old.execute("CREATE SCHEMA \"\(schema)\"; SET search_path TO \"\(schema)\"")
        try await old.migrate(Array(PostgresTimeSeriesStore.migrations.prefix(2)), logger: logger)
        let day: UInt64 = 86_400_000
        let today = Self.hour - Self.hour % day
        try await old.execute("""
            INSERT INTO series (id, group_id, edge_node, device, metric, asset_path)
                VALUES (1, 'g', 'e', 'press', 'temperature', '\(Self.asset)');
            INSERT INTO samples VALUES (1, \(today - 5 * day), 1, 1.5, NULL, 192), (1, \(Self.hour), 1, 2.5, NULL, 192)
            """)
        await old.close()
        let store = try await PostgresTimeSeriesStore.connect(configuration, schema: schema)
        let admin = try await PostgresConnection.connect(configuration)
        do {
            try await store.prepare(logger: logger)
            #expect(try await store.counts().samples == 2, "the conversion keeps every row")
            #expect(try await store.rollups(asset: Self.asset, metric: "temperature", width: .minute, from: 0, to: .max,
                                            limit: 10).map(\.count) == [1, 1], "existing samples are rolled up")
            try await store.maintain(now: Self.hour, sampleRetention: 0, logger: logger)
            let names = (0...3).map { PostgresTimeSeriesStore.partitionName(dayStart: Int64(today + $0 * day)) }
            #expect(names.first == "samples_d20261122")
            #expect(try await Self.partitions(admin, schema: schema) == names + ["samples_default"])
            // Today's row moved out of the default partition into today's; a second run changes nothing.
            try await store.maintain(now: Self.hour, sampleRetention: 0, logger: logger)
            let inToday = try await admin.query("SELECT count(*) FROM \"\(schema)\".\(names[0])")
            #expect(try inToday.first?.decode(Int64.self, at: 0) == 1)
            // New data lands in its day partition, data far outside any in the default one: no insert fails.
            _ = try await store.write(Self.batch([Self.hour + day, 1_000]))
            #expect(try await store.counts().samples == 4)
            // Retention at the end of today: today's partition goes whole, the default's old rows go.
            #expect(try await store.deleteSamples(before: today + day) == 3)
            #expect(try await Self.partitions(admin, schema: schema) == Array(names.dropFirst()) + ["samples_default"])
            #expect(try await store.counts().samples == 1)
            // Rollups outlive the raw samples.
            #expect(try await store.rollups(asset: Self.asset, metric: "temperature", width: .minute, from: 0,
                                            to: .max, limit: 10).count == 4)
        } catch {
            await admin.close()
            await store.dropSchemaAndClose()
            throw error
        }
        await admin.close()
        await store.dropSchemaAndClose()
    }
}
