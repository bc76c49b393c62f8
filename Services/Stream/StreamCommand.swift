import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime
import StreamCore

/// `stream`: The Sparkplug host application: stores every sample and derives plant events.
@main
struct StreamCommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "The Sparkplug host application: stores every sample and derives plant events.",
        version: ShopfloorVersion.current)
    static let serviceName = "stream"
    static let defaultHTTPPort = 9102

    @OptionGroup var runtime: RuntimeOptions

    @Option(name: .customLong("store"), help: "sqlite:PATH or postgres://user:pass@host:port/db (STREAM_STORE; default sqlite:stream.db)")
    var store: String?
    @Option(name: .customLong("host-id"), help: "Sparkplug host id of the STATE topic (STREAM_HOST_ID; default shopfloor)")
    var hostID: String?
    @Option(name: .customLong("role"), help: "primary or worker (STREAM_ROLE; default primary)")
    var role: String?
    @Option(name: .customLong("journal"), help: "journal file path (STREAM_JOURNAL; default stream.journal)")
    var journal: String?
    @Option(name: .customLong("batch-size"), help: "journal records per store transaction (STREAM_BATCH_SIZE; default 2000)")
    var batchSize: String?
    @Option(name: .customLong("batch-interval-ms"), help: "idle journal poll in ms (STREAM_BATCH_INTERVAL_MS; default 20)")
    var batchIntervalMS: String?
    @Option(name: .customLong("reorder-timeout-ms"), help: "Sparkplug reorder timeout in ms (STREAM_REORDER_TIMEOUT_MS; default 2000)")
    var reorderTimeoutMS: String?
    @Option(name: .customLong("rebirth-interval-ms"), help: "minimum ms between rebirth requests to one node (STREAM_REBIRTH_INTERVAL_MS; default 10000)")
    var rebirthIntervalMS: String?
    @Option(name: .customLong("session-expiry"), help: "seconds the broker keeps the ingest session (STREAM_SESSION_EXPIRY; default 3600)")
    var sessionExpiry: String?
    @Option(name: .customLong("groups"), help: "comma-separated Sparkplug group ids to host (STREAM_GROUPS; default all)")
    var groups: String?
    @Option(name: .customLong("retention"), help: "keep raw samples this long, e.g. 30d, 12h (STREAM_RETENTION; default 0 = keep)")
    var retention: String?
    @Option(name: .customLong("rollup-retention"), help: "keep 1m/1h rollups this long, e.g. 730d (STREAM_ROLLUP_RETENTION; default 0 = keep)")
    var rollupRetention: String?
    @Option(name: .customLong("alarm-rules"), help: "JSON file of threshold alarm rules (STREAM_ALARM_RULES; default none)")
    var alarmRules: String?

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        let flags = StreamFlags(store: store, hostID: hostID, role: role, journal: journal, batchSize: batchSize,
                                batchIntervalMS: batchIntervalMS, reorderTimeoutMS: reorderTimeoutMS,
                                rebirthIntervalMS: rebirthIntervalMS, sessionExpiry: sessionExpiry,
                                groups: groups, retention: retention, rollupRetention: rollupRetention,
                                alarmRules: alarmRules)
        let stream = try StreamConfig(flags: flags, environment: ProcessInfo.processInfo.environment)
        return [StreamHost(config: stream, runtime: config, health: health, logger: logger)]
    }
}
