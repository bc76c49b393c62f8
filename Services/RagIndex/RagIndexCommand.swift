import ArgumentParser
import Logging
import ServiceLifecycle
import ServiceRuntime

/// `rag-index`: Answers questions from the plant's documentation and recent events.
@main
struct RagIndexCommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag-index",
        abstract: "Answers questions from the plant's documentation and recent events.",
        version: ShopfloorVersion.current)
    static let serviceName = "rag-index"
    static let defaultHTTPPort = 9104

    @OptionGroup var runtime: RuntimeOptions

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        []
    }
}
