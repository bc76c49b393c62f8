import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime
import Sparkplug

/// Builds the gateway's services from its configuration; `GatewayCommand` and the tests both call this.
enum Gateway {
    static let configKey = ConfigKey(flag: "config", environment: "GATEWAY_CONFIG")

    /// The configuration file from `--config`, else `GATEWAY_CONFIG`.
    static func configPath(_ flag: String?) throws(ConfigError) -> String {
        guard let path = configKey.raw(flag: flag, in: ProcessInfo.processInfo.environment), !path.isEmpty else {
            throw ConfigError(key: configKey.description, value: "", expected: "the path of the gateway's YAML file")
        }
        return path
    }

    /// The edge node service for `config`, connecting to the runtime's broker.
    static func build(config: GatewayConfig, runtime: RuntimeConfig, health: HealthChecks,
                      logger: Logger) throws -> EdgeNodeService {
        try EdgeNodeService(config: config, broker: runtime.broker,
                            clientID: "gateway-\(config.groupID)-\(config.edgeNodeID)", health: health, logger: logger)
    }

    /// Reads every device once and prints one line per tag (or the error); true when every device answered.
    static func check(_ config: GatewayConfig, print: (String) -> Void) async -> Bool {
        var allAnswered = true
        let logger = Logger(label: "shopfloor.gateway.check")
        for (index, device) in config.devices.enumerated() {
            let poller = DevicePoller(index: index, device: device, pollGroups: config.pollGroups,
                                      maxGap: config.maxGap, logger: logger)
            let reads = poller.groups.reduce(0) { $0 + $1.plan.reads.count }
            print("\(device.name) \(device.host):\(device.port) unit \(device.unitID) (\(device.tags.count) tags, \(reads) reads)")
            switch await poller.readAll() {
            case .success(let reading):
                let byIndex = Dictionary(reading.values, uniquingKeysWith: { first, _ in first })
                for (tagIndex, tag) in device.tags.enumerated() {
                    let value = byIndex[tagIndex].map(\.displayText) ?? "no value (read refused)"
                    print("  \(tag.name) [\(tag.address) \(tag.type.rawValue)] = \(value)\(tag.unit.map { " \($0)" } ?? "")")
                }
            case .failure(let error):
                allAnswered = false
                print("  not answering: \(error)")
            }
            await poller.client.close()
        }
        return allAnswered
    }
}

extension MetricValue {
    /// The value as an operator reads it: `29.5`, `true`, `"ABC"`.
    var displayText: String {
        switch self {
        case .boolean(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .float(let value): "\(value)"
        case .double(let value): "\(value)"
        default: number.map { $0 == $0.rounded() ? String(Int64($0)) : "\($0)" } ?? "\(self)"
        }
    }
}
