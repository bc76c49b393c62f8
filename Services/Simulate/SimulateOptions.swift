import ArgumentParser
import ServiceRuntime

/// `simulate`'s own flags; each falls back to an environment variable (see `SimulateConfig`).
struct SimulateOptions: ParsableArguments, Sendable {
    @Option(help: "Plant file (YAML) (env PLANT; default deploy/plants/default.yaml).")
    var plant: String?

    @Flag(help: "Validate the plant file (and scenario), print the result and exit.")
    var check = false

    @Option(help: "Random seed; the same seed gives the same plant behaviour (env SEED; default random, logged).")
    var seed: String?

    @Option(help: "Plant time runs this many times faster than wall time (env SPEED; default 1).")
    var speed: String?

    @Option(
        name: .customLong("modbus-port"),
        help:
            "Machine i serves Modbus TCP on this port + i unless the plant file sets its port (env MODBUS_PORT; default 5020)."
    )
    var modbusPort: String?

    @Option(help: "Address the Modbus servers bind (env BIND; default 127.0.0.1).")
    var bind: String?

    @Option(help: "Scenario file: a YAML list of timed fault injections (env SCENARIO).")
    var scenario: String?

    @Flag(help: "Sparkplug load mode: publish as edge nodes instead of serving the plant over Modbus.")
    var sparkplug = false

    @Option(help: "Load mode: Sparkplug group id (default shopfloor-load).")
    var group = "shopfloor-load"

    @Option(
        name: .customLong("node-prefix"), help: "Load mode: edge node ids are PREFIX-0, PREFIX-1, … (default edge).")
    var nodePrefix = "edge"

    @Option(help: "Load mode: number of edge nodes, one MQTT connection each (1…1000; default 1).")
    var nodes = 1

    @Option(help: "Load mode: devices per edge node (1…1000; default 10).")
    var devices = 10

    @Option(help: "Load mode: metrics per device (1…10000; default 10).")
    var metrics = 10

    @Option(help: "Load mode: DDATA messages per second per node; 0 = as fast as the broker takes them (default 10).")
    var rate = 10.0

    @Option(help: "Load mode: stop after this many seconds (default: run until SIGTERM).")
    var duration: Double?

    init() {}

    /// The load-mode settings, checked.
    func sparkplugLoad() throws(ConfigError) -> SparkplugLoadOptions {
        func check(_ value: Int, _ flag: String, _ range: ClosedRange<Int>) throws(ConfigError) {
            guard range.contains(value) else {
                throw ConfigError(
                    key: "--\(flag)", value: "\(value)",
                    expected: "an integer in \(range.lowerBound)…\(range.upperBound)")
            }
        }
        try check(nodes, "nodes", 1...1000)
        try check(devices, "devices", 1...1000)
        try check(metrics, "metrics", 1...10000)
        guard rate >= 0, rate.isFinite else {
            throw ConfigError(key: "--rate", value: "\(rate)", expected: "a number ≥ 0 (0 = unlimited)")
        }
        if let duration, !(duration > 0) {
            throw ConfigError(key: "--duration", value: "\(duration)", expected: "a number of seconds > 0")
        }
        for (flag, name) in [("group", group), ("node-prefix", nodePrefix)]
        where name.isEmpty || name.contains(where: { "/+#".contains($0) }) {
            throw ConfigError(key: "--\(flag)", value: name, expected: "a Sparkplug id without '/', '+' or '#'")
        }
        return SparkplugLoadOptions(
            group: group, nodePrefix: nodePrefix, nodes: nodes, devices: devices,
            metrics: metrics, rate: rate, duration: duration)
    }
}
