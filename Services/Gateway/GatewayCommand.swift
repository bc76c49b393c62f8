import ArgumentParser
import Foundation
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

    @OptionGroup var file: ConfigFileOption

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        let gateway: GatewayConfig
        if let path = Gateway.configKey.raw(flag: file.config, in: ProcessInfo.processInfo.environment), !path.isEmpty {
            gateway = try GatewayConfig(file: path)
        } else {
            // Still a valid edge node (NBIRTH with the gateway's own metrics), so a fresh install starts and
            // answers /health; the warning says what is missing.
            logger.warning("no --config / GATEWAY_CONFIG: running an edge node without devices")
            gateway = GatewayConfig.withoutDevices(edgeNodeID: config.instance)
        }
        return [try Gateway.build(config: gateway, runtime: config, health: health, logger: logger)]
    }
}

/// `gateway check --config FILE`: commissioning. Reads every tag of every device once and prints it.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Read every configured device once and print what it answers.")

    @OptionGroup var file: ConfigFileOption

    func run() async throws {
        let config: GatewayConfig
        do {
            config = try GatewayConfig(file: try Gateway.configPath(file.config))
        } catch {
            print(error)
            throw ExitCode(2)
        }
        let ok = await Gateway.check(config) { print($0) }
        if !ok { throw ExitCode(1) }
    }
}

/// `--config FILE`, shared by `gateway` and `gateway check` (declared once so the parent does not swallow the
/// subcommand's value).
struct ConfigFileOption: ParsableArguments {
    @Option(name: .customLong("config"), help: "The gateway's YAML configuration (env GATEWAY_CONFIG).")
    var config: String?
}
