import ArgumentParser
import Logging
import ServiceLifecycle
import ServiceRuntime

/// `api`: The MES face: REST API, dashboard, work orders, OEE, alarms.
@main
struct APICommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "The MES face: REST API, dashboard, work orders, OEE, alarms.",
        version: ShopfloorVersion.current)
    static let serviceName = "api"
    static let defaultHTTPPort = 8080

    @OptionGroup var runtime: RuntimeOptions

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        []
    }
}
