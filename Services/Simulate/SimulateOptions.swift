import ArgumentParser

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

    @Option(name: .customLong("modbus-port"),
            help: "Machine i serves Modbus TCP on this port + i unless the plant file sets its port (env MODBUS_PORT; default 5020).")
    var modbusPort: String?

    @Option(help: "Address the Modbus servers bind (env BIND; default 127.0.0.1).")
    var bind: String?

    @Option(help: "Scenario file: a YAML list of timed fault injections (env SCENARIO).")
    var scenario: String?

    init() {}
}
