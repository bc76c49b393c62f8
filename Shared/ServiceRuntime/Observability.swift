import Foundation
import Logging
import Metrics
import Prometheus
import Synchronization

/// Process-wide logging and metrics set-up. Both backends can be bootstrapped once per process only, so the
/// first call wins and later calls (tests building several services in one process) reuse it.
public enum Observability {
    /// The Prometheus registry every metric of this process lands in; `/metrics` renders it.
    public static let registry: PrometheusCollectorRegistry = bootstrapMetrics()

    private static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    private static let loggingBootstrapped = Mutex(false)

    /// Installs the log handler (text or JSON lines) at the configured level and returns the service's logger.
    /// Also touches `registry` so metrics are bootstrapped before any service creates a counter.
    public static func bootstrap(_ config: RuntimeConfig) -> Logger {
        _ = registry
        loggingBootstrapped.withLock { bootstrapped in
            // LoggingSystem.bootstrap traps when called twice; tests build several services per process.
            guard !bootstrapped else { return }
            bootstrapped = true
            let level = config.logLevel
            let service = config.service
            switch config.logFormat {
            case .text:
                LoggingSystem.bootstrap { label in
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = level
                    return handler
                }
            case .json:
                LoggingSystem.bootstrap { label in
                    var handler = JSONLogHandler(label: label, service: service)
                    handler.logLevel = level
                    return handler
                }
            }
        }
        var logger = Logger(label: "shopfloor.\(config.service)")
        logger.logLevel = config.logLevel
        logger[metadataKey: "instance"] = "\(config.instance)"
        return logger
    }
}
