import Foundation
import ServiceRuntime

/// `simulate`'s own settings, resolved from flags, then environment, then defaults.
///
/// Keys (flag / environment variable, type, default):
/// - `--plant` / `PLANT`, file path, `deploy/plants/default.yaml`
/// - `--seed` / `SEED`, unsigned integer, a random seed (logged, so a run can be repeated)
/// - `--speed` / `SPEED`, number 0.001…100000, `1` (plant seconds per wall second)
/// - `--modbus-port` / `MODBUS_PORT`, integer 1…65535, `5020` (machine i listens on this + i)
/// - `--bind` / `BIND`, address, `127.0.0.1`
/// - `--scenario` / `SCENARIO`, file path, none (timed fault injections)
struct SimulateConfig: Sendable, CustomStringConvertible {
    static let plantKey = ConfigKey(flag: "plant", environment: "PLANT")
    static let seedKey = ConfigKey(flag: "seed", environment: "SEED")
    static let speedKey = ConfigKey(flag: "speed", environment: "SPEED")
    static let modbusPortKey = ConfigKey(flag: "modbus-port", environment: "MODBUS_PORT")
    static let bindKey = ConfigKey(flag: "bind", environment: "BIND")
    static let scenarioKey = ConfigKey(flag: "scenario", environment: "SCENARIO")

    var plantPath: String
    var seed: UInt64
    var speed: Double
    var modbusPort: Int
    var bind: String
    var scenarioPath: String?

    init(options: SimulateOptions, environment: [String: String]) throws(ConfigError) {
        plantPath = Self.plantKey.raw(flag: options.plant, in: environment) ?? "deploy/plants/default.yaml"
        if let raw = Self.seedKey.raw(flag: options.seed, in: environment) {
            guard let value = UInt64(raw) else {
                throw ConfigError(key: Self.seedKey.description, value: raw, expected: "an unsigned 64-bit integer")
            }
            seed = value
        } else {
            seed = UInt64.random(in: 0...UInt64(UInt32.max))
        }
        if let raw = Self.speedKey.raw(flag: options.speed, in: environment) {
            guard let value = Double(raw), value >= 0.001, value <= 100_000 else {
                throw ConfigError(key: Self.speedKey.description, value: raw, expected: "a number in 0.001…100000")
            }
            speed = value
        } else {
            speed = 1
        }
        modbusPort = try Self.modbusPortKey.integer(
            flag: options.modbusPort, in: environment, default: 5020,
            range: 1...65535)
        bind = Self.bindKey.raw(flag: options.bind, in: environment) ?? "127.0.0.1"
        scenarioPath = Self.scenarioKey.raw(flag: options.scenario, in: environment)
    }

    var description: String {
        "plant=\(plantPath) seed=\(seed) speed=\(speed) modbus=\(bind):\(modbusPort)+i"
            + (scenarioPath.map { " scenario=\($0)" } ?? "")
    }
}
