import ArgumentParser
import Logging
import ServiceLifecycle
import ServiceRuntime

/// `simulate`: A test plant of machines served over Modbus TCP.
@main
struct SimulateCommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "A test plant of machines served over Modbus TCP.",
        version: ShopfloorVersion.current)
    static let serviceName = "simulate"
    static let defaultHTTPPort = 9103

    @OptionGroup var runtime: RuntimeOptions

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        []
    }
}
