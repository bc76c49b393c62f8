import ArgumentParser
import Logging
import ServiceLifecycle
import ServiceRuntime

/// `gateway`: Modbus TCP devices in, a Sparkplug B 3.0 edge node out.
@main
struct GatewayCommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Modbus TCP devices in, a Sparkplug B 3.0 edge node out.",
        version: ShopfloorVersion.current,
        subcommands: [CheckCommand.self])
    static let serviceName = "gateway"
    static let defaultHTTPPort = 9101

    @OptionGroup var runtime: RuntimeOptions

    @Option(name: .customLong("config"), help: "The gateway's YAML configuration (env GATEWAY_CONFIG).")
    var configFile: String?

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        let gateway = try GatewayConfig(file: try Gateway.configPath(configFile))
        return [try Gateway.build(config: gateway, runtime: config, health: health, logger: logger)]
    }
}

/// `gateway check --config FILE`: commissioning. Reads every tag of every device once and prints it.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Read every configured device once and print what it answers.")

    @Option(name: .customLong("config"), help: "The gateway's YAML configuration (env GATEWAY_CONFIG).")
    var configFile: String?

    func run() async throws {
        let config: GatewayConfig
        do {
            config = try GatewayConfig(file: try Gateway.configPath(configFile))
        } catch {
            print(error)
            throw ExitCode(2)
        }
        let ok = await Gateway.check(config) { print($0) }
        if !ok { throw ExitCode(1) }
    }
}
