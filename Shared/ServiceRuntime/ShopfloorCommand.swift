import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// What every Shopfloor executable is: an argument-parsing command that resolves its configuration, sets up
/// logging and metrics, builds its services and runs them until SIGTERM. An executable supplies its name,
/// its default HTTP port and its own services; the retained status topic and the HTTP server with `/health`
/// and `/metrics` are added here.
public protocol ShopfloorCommand: AsyncParsableCommand {
    /// The service name in logs, metrics, `/health` and status topics.
    static var serviceName: String { get }
    /// The port `/health` and `/metrics` listen on unless `--http-port` says otherwise.
    static var defaultHTTPPort: Int { get }
    /// The shared flags; declare it as `@OptionGroup var runtime: RuntimeOptions`.
    var runtime: RuntimeOptions { get }
    /// The executable's own long-running services, in dependency order (shutdown runs in reverse).
    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service]
}

extension ShopfloorCommand {
    public func run() async throws {
        let config = try RuntimeConfig(service: Self.serviceName, options: runtime,
                                       environment: ProcessInfo.processInfo.environment,
                                       defaultHTTPPort: Self.defaultHTTPPort)
        let logger = Observability.bootstrap(config)
        logger.info("starting", metadata: ["config": "\(config)", "version": "\(ShopfloorVersion.current)"])
        let health = HealthChecks()
        let status = try ServiceStatusPublisher(config: config, health: health, logger: logger)
        let own = try await services(config: config, health: health, logger: logger)
        let http = ObservabilityServer.service(
            config: config, router: ObservabilityServer.router(config: config, health: health), logger: logger)
        // Status first so it is the last to stop: `offline` is published after the service's own goodbyes.
        try await ServiceRunner.run([status] + own + [http], logger: logger)
    }
}
