import ArgumentParser
import Logging
import ServiceLifecycle
import ServiceRuntime

/// `stream`: The Sparkplug host application: stores every sample and derives plant events.
@main
struct StreamCommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "The Sparkplug host application: stores every sample and derives plant events.",
        version: ShopfloorVersion.current)
    static let serviceName = "stream"
    static let defaultHTTPPort = 9102

    @OptionGroup var runtime: RuntimeOptions

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        []
    }
}
