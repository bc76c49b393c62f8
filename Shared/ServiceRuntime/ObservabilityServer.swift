import Foundation
import Hummingbird
import Logging
import Metrics
import ServiceLifecycle

/// The HTTP server every service runs: `GET /health` (JSON: 200 `ok` or `degraded`, 503 `unhealthy`) and `GET /metrics` (Prometheus text).
/// Services with a REST API add their routes to the same router through `configure`.
public enum ObservabilityServer {
    /// Builds the router with `/health` and `/metrics`.
    public static func router(config: RuntimeConfig, health: HealthChecks,
                              version: String = ShopfloorVersion.current) -> Router<BasicRequestContext> {
        let router = Router()
        // Request counts and durations per route: hb_requests_total, hb_request_duration_seconds, hb_errors_total.
        router.add(middleware: MetricsMiddleware())
        let started = Date()
        Gauge(label: "shopfloor_build_info", dimensions: [("service", config.service), ("version", version)])
            .record(1)
        router.get("/health") { _, _ -> Response in
            let checks = health.snapshot
            let healthy = health.isHealthy
            let status = !healthy ? "unhealthy" : checks.values.allSatisfy(\.healthy) ? "ok" : "degraded"
            let body = HealthBody(
                status: status, service: config.service, instance: config.instance,
                version: version, uptimeSeconds: Int(Date().timeIntervalSince(started)),
                checks: checks.mapValues {
                    HealthBody.Check(healthy: $0.healthy, detail: $0.detail, critical: $0.critical ? nil : false)
                })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = (try? encoder.encode(body)) ?? Data("{\"status\":\"unhealthy\"}".utf8)
            return Response(status: healthy ? .ok : .serviceUnavailable,
                            headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: Observability.registry.emitToBuffer())))
        }
        return router
    }

    /// The HTTP server as a `Service`, listening on the configured host and port. `onRunning` receives the
    /// bound port (useful with `--http-port 0`).
    public static func service(config: RuntimeConfig, router: Router<BasicRequestContext>, logger: Logger,
                               onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        Application(
            router: router,
            configuration: .init(address: .hostname(config.httpHost, port: config.httpPort),
                                 serverName: "shopfloor-\(config.service)"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config.httpPort
                logger.info("HTTP server listening", metadata: ["port": "\(port)", "paths": "/health /metrics"])
                await onRunning(port)
            },
            logger: logger)
    }
}

/// The JSON `/health` answers with.
struct HealthBody: Encodable {
    struct Check: Encodable {
        let healthy: Bool
        let detail: String
        /// Written only as `false`, for checks that do not decide the status code.
        let critical: Bool?
    }

    let status: String
    let service: String
    let instance: String
    let version: String
    let uptimeSeconds: Int
    let checks: [String: Check]
}

/// The version reported in `/health` and `--version`.
public enum ShopfloorVersion {
    public static let current = "0.1.0"
}
