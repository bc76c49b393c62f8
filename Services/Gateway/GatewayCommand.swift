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
        version: ShopfloorVersion.current)
    static let serviceName = "gateway"
    static let defaultHTTPPort = 9101

    @OptionGroup var runtime: RuntimeOptions

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        []
    }
}
