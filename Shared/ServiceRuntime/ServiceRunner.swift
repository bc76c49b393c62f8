import Logging
import ServiceLifecycle

/// Runs a service's `Service`s under one `ServiceGroup` that shuts down gracefully on SIGTERM and SIGINT.
/// Services start in the order given and shut down in reverse, so list dependencies first.
public enum ServiceRunner {
    public static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger))
        try await group.run()
        logger.info("stopped cleanly")
    }
}
