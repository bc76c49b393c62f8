import Foundation
import Logging
import Postgres
import Sparkplug
import StreamCore
import Testing
import TestSupport

/// The same behaviour from both stores: idempotent samples, series metadata, births, dead letters, queries.
@Suite("Time-series stores")
struct StoreTests {
    static let node = EdgeNodeID(group: "g", edgeNode: "e")
    static let key = SeriesKey(node: node, device: "press", metric: "temperature")

    static func batch() -> StoreBatch {
        var batch = StoreBatch()
        batch.series = [SeriesInfo(key: key, datatype: .double, unit: "°C", assetPath: "acme/p1/a/l/press")]
        batch.samples = (0..<5).map { Sample(series: key, timestamp: UInt64(1_000 + $0), value: .number(Double($0))) }
            + [Sample(series: SeriesKey(node: node, device: "press", metric: "running"), timestamp: 1_000,
                      value: .boolean(true)),
               Sample(series: SeriesKey(node: node, device: "press", metric: "recipe"), timestamp: 1_000,
                      value: .text("A-7"), quality: .bad)]
        batch.births = [StoredBirth(node: node, device: "press", payload: [1], receivedAt: 5),
                        StoredBirth(node: node, device: nil, payload: [2], receivedAt: 6),
                        StoredBirth(node: node, device: "press", payload: [3], receivedAt: 7)]
        batch.deadLetters = [DeadLetter(topic: "spBv1.0/g/DDATA/e/press", reason: "undecodable", payload: [0xff],
                                        receivedAt: 8)]
        return batch
    }

    /// Runs the shared checks against `store`.
    static func check(_ store: any TimeSeriesStore) async throws {
        try await store.prepare(logger: Logger(label: "test"))
        #expect(try await store.write(batch()) == 7)
        // The same batch again (a redelivery or a replay): no new samples.
        #expect(try await store.write(batch()) == 0)
        let counts = try await store.counts()
        #expect(counts.samples == 7)
        #expect(counts.series == 3)
        #expect(counts.deadLetters == 2)
        let page = try await store.samples(asset: "acme/p1/a/l/press", metric: "temperature", from: 1_001, to: 1_004,
                                           after: 1_001, limit: 2)
        #expect(page == [StoredSample(timestamp: 1_002, value: .number(2), quality: .good),
                         StoredSample(timestamp: 1_003, value: .number(3), quality: .good)])
        // The NBIRTH dropped the earlier DBIRTH; the later DBIRTH stays, and NBIRTHs come first.
        let births = try await store.births()
        #expect(births.map(\.payload) == [[2], [3]])
        #expect(births.map(\.device) == [nil, "press"])
        #expect(try await store.deadLetters(limit: 1).first?.payload == [0xff])
        // Retention: everything before 1 003 goes (temperature 1 000…1 002 and the two samples at 1 000).
        #expect(try await store.deleteSamples(before: 1_003) == 5)
        #expect(try await store.counts().samples == 2)
    }

    @Test("SQLite")
    func sqlite() async throws {
        let path = NSTemporaryDirectory() + "stream-store-\(UUID().uuidString).db"
        let store = try await SQLiteTimeSeriesStore.open(path: path)
        try await Self.check(store)
        await store.close()
    }

    @Test("PostgreSQL")
    func postgres() async throws {
        let configuration = PostgresConfiguration(
            host: try TestEnvironment.require("POSTGRES_HOST"), port: try TestEnvironment.requireInt("POSTGRES_PORT"),
            user: try TestEnvironment.require("POSTGRES_USER"), database: try TestEnvironment.require("POSTGRES_DB"))
        let schema = "stream_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let store = try await PostgresTimeSeriesStore.connect(configuration, schema: schema)
        do {
            try await Self.check(store)
        } catch {
            await store.dropSchemaAndClose()
            throw error
        }
        await store.dropSchemaAndClose()
    }

    @Test("PostgreSQL: after the server drops the connection, the retried write succeeds")
    func postgresReconnects() async throws {
        let configuration = PostgresConfiguration(
            host: try TestEnvironment.require("POSTGRES_HOST"), port: try TestEnvironment.requireInt("POSTGRES_PORT"),
            user: try TestEnvironment.require("POSTGRES_USER"), database: try TestEnvironment.require("POSTGRES_DB"))
        let schema = "stream_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let store = try await PostgresTimeSeriesStore.connect(configuration, schema: schema)
        do {
            try await store.prepare(logger: Logger(label: "test"))
            let admin = try await PostgresConnection.connect(configuration)
            _ = try await admin.query("SELECT pg_terminate_backend($1::int4)", [.int64(try await store.backendPID())])
            await admin.close()
            await #expect(throws: (any Error).self) { _ = try await store.write(Self.batch()) }
            #expect(try await store.write(Self.batch()) == 7)
        } catch {
            await store.dropSchemaAndClose()
            throw error
        }
        await store.dropSchemaAndClose()
    }
}