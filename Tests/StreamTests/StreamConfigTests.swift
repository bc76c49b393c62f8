import Foundation
import Logging
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

    @Test("retention ages: flag, then environment, then keep forever")
    func retention() throws {
        let config = try StreamConfig(flags: StreamFlags(retention: "12h"),
                                      environment: ["STREAM_RETENTION": "1d", "STREAM_ROLLUP_RETENTION": "730d"])
        #expect(config.retentionMS == 12 * 3_600_000)
        #expect(config.rollupRetentionMS == 730 * 86_400_000)
        let defaults = try StreamConfig(flags: StreamFlags(), environment: [:])
        #expect(defaults.retentionMS == 0 && defaults.rollupRetentionMS == 0)
        #expect(throws: ConfigError.self) {
            _ = try StreamConfig(flags: StreamFlags(retention: "99999999999999999999d"), environment: [:])
        }
    }

    @Test("subscriptions: every instance shares DATA and sees every BIRTH/DEATH; the primary also watches all for seq")
    func subscriptions() async throws {
        func host(_ flags: StreamFlags) throws -> StreamHost {
            let runtime = try RuntimeConfig(service: "stream", options: try RuntimeOptions.parse([]),
                                            environment: ["INSTANCE": "t"], defaultHTTPPort: 0)
            return StreamHost(config: try StreamConfig(flags: flags, environment: [:]), runtime: runtime,
                              health: HealthChecks(), logger: Logger(label: "t"))
        }
        func filters(_ flags: StreamFlags) throws -> [String] { try host(flags).ingestFilters }
        #expect(try host(StreamFlags()).sequenceFilters == ["spBv1.0/#"])
        #expect(try host(StreamFlags(groups: "a,b")).sequenceFilters == ["spBv1.0/a/#", "spBv1.0/b/#"])
        #expect(try filters(StreamFlags()) == [
            "$share/stream/spBv1.0/+/NDATA/#", "$share/stream/spBv1.0/+/DDATA/#", "spBv1.0/+/NBIRTH/#",
            "spBv1.0/+/NDEATH/#", "spBv1.0/+/DBIRTH/#", "spBv1.0/+/DDEATH/#",
        ])
        #expect(try filters(StreamFlags(role: "worker", groups: "a")) == [
            "$share/stream/spBv1.0/a/NDATA/#", "$share/stream/spBv1.0/a/DDATA/#", "spBv1.0/a/NBIRTH/#",
            "spBv1.0/a/NDEATH/#", "spBv1.0/a/DBIRTH/#", "spBv1.0/a/DDEATH/#",
        ])
    }

    @Test("an alarm rules file is read at start; a bad one names the key and the rule")
    func alarmRulesFile() throws {
        let path = NSTemporaryDirectory() + "rules-\(UUID().uuidString).json"
        try Data(#"[{"asset":"acme/p1/a/l/press","metric":"temperature","high":85,"hysteresis":2}]"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let config = try StreamConfig(flags: StreamFlags(alarmRules: path), environment: [:])
        #expect(config.alarmRules == [AlarmRule(asset: "acme/p1/a/l/press", metric: "temperature", high: 85, hysteresis: 2)])
        try Data(#"[{"metric":"temperature","high":5,"low":10}]"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try StreamConfig(flags: StreamFlags(alarmRules: path), environment: [:])
        } throws: { error in
            let text = "\(error)"
            return text.contains("--alarm-rules / STREAM_ALARM_RULES") && text.contains("rule 1 (*/temperature): low 10.0 is not below high 5.0")
        }
        #expect(throws: ConfigError.self) {
            _ = try StreamConfig(flags: StreamFlags(alarmRules: path + ".missing"), environment: [:])
        }
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
        (StreamFlags(retention: "-1d"), "--retention / STREAM_RETENTION"),
        (StreamFlags(retention: "30"), "--retention / STREAM_RETENTION"),
        (StreamFlags(retention: "30d", rollupRetention: "7d"), "--rollup-retention / STREAM_ROLLUP_RETENTION"),
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
