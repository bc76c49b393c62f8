import ArgumentParser

/// The flags every Shopfloor executable accepts. Each one falls back to an environment variable, then to a
/// default; `RuntimeConfig(options:environment:defaultHTTPPort:)` resolves and validates them.
public struct RuntimeOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("mqtt-url"),
            help: "Broker URL, mqtt://[user:pass@]host:port or mqtts://… (env MQTT_URL; default mqtt://127.0.0.1:1883).")
    public var mqttURL: String?

    @Option(name: .customLong("http-port"),
            help: "Port of the /health and /metrics HTTP server (env HTTP_PORT; 0 picks a free port).")
    public var httpPort: String?

    @Option(name: .customLong("http-host"),
            help: "Address the HTTP server binds (env HTTP_HOST; default 0.0.0.0).")
    public var httpHost: String?

    @Option(name: .customLong("log-level"),
            help: "trace, debug, info, notice, warning, error or critical (env LOG_LEVEL; default info).")
    public var logLevel: String?

    @Option(name: .customLong("log-format"),
            help: "text or json (JSON lines) (env LOG_FORMAT; default text).")
    public var logFormat: String?

    @Option(name: .customLong("instance"),
            help: "Instance name, unique among replicas of this service (env INSTANCE; default the host name).")
    public var instance: String?

    @Option(name: .customLong("uns-prefix"),
            help: "Root of the unified-namespace topics (env UNS_PREFIX; default uns/v1).")
    public var unsPrefix: String?

    public init() {}
}
