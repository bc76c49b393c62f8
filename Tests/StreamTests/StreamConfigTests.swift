import ServiceRuntime
import Testing
@testable import StreamCore

@Suite("Stream configuration")
struct StreamConfigTests {
    @Test("defaults: embedded SQLite store, primary, host id shopfloor")
    func defaults() throws {
        let config = try StreamConfig(flags: StreamFlags(), environment: [:])
        #expect(config.store == .sqlite(path: "stream.db"))
        #expect(config.role == .primary)
        #expect(config.hostID == "shopfloor")
        #expect(config.hostConfiguration.isPrimary)
    }

    @Test("flags win over the environment")
    func flagsWin() throws {
        let config = try StreamConfig(flags: StreamFlags(store: "sqlite:/tmp/a.db", role: "worker"),
                                      environment: ["STREAM_STORE": "sqlite:/tmp/b.db", "STREAM_ROLE": "primary",
                                                    "STREAM_BATCH_SIZE": "50"])
        #expect(config.store == .sqlite(path: "/tmp/a.db"))
        #expect(config.role == .worker)
        #expect(config.batchSize == 50)
        #expect(!config.hostConfiguration.isPrimary)
    }

    @Test("groups are a comma-separated list")
    func groups() throws {
        let config = try StreamConfig(flags: StreamFlags(), environment: ["STREAM_GROUPS": "plant-1, plant-2,"])
        #expect(config.groups == ["plant-1", "plant-2"])
    }

    @Test("a postgres URL is accepted and its password never shows")
    func postgresURL() throws {
        let config = try StreamConfig(flags: StreamFlags(store: "postgres://u:secret@db:5433/plant"), environment: [:])
        guard case .postgres(let postgres) = config.store else {
            Issue.record("expected a postgres store, got \(config.store)")
            return
        }
        #expect(postgres.port == 5433)
        #expect(postgres.database == "plant")
        #expect(!config.description.contains("secret"))
    }

    @Test("bad values name their key", arguments: [
        (StreamFlags(store: "mysql://u:secret@h/db"), "--store / STREAM_STORE"),
        (StreamFlags(store: "sqlite:"), "--store / STREAM_STORE"),
        (StreamFlags(hostID: "a/b"), "--host-id / STREAM_HOST_ID"),
        (StreamFlags(role: "boss"), "--role / STREAM_ROLE"),
        (StreamFlags(batchSize: "0"), "--batch-size / STREAM_BATCH_SIZE"),
        (StreamFlags(reorderTimeoutMS: "soon"), "--reorder-timeout-ms / STREAM_REORDER_TIMEOUT_MS"),
        (StreamFlags(groups: "plant-1, line/2"), "--groups / STREAM_GROUPS"),
        (StreamFlags(retentionDays: "-1"), "--retention-days / STREAM_RETENTION_DAYS"),
    ])
    func badValues(flags: StreamFlags, key: String) {
        #expect {
            _ = try StreamConfig(flags: flags, environment: [:])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.key == key && !error.description.contains("secret")
        }
    }
}
