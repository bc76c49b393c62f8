import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import Metrics
import Testing

@testable import ServiceRuntime

@Suite("ObservabilityServer")
struct ObservabilityServerTests {
    /// Runs the real HTTP server on a free loopback port for the duration of `body`.
    private func withServer(health: HealthChecks, _ body: @Sendable (Int) async throws -> Void) async throws {
        let config = try RuntimeConfig(service: "stream",
                                       options: RuntimeOptions.parse(["--http-port", "0", "--http-host", "127.0.0.1"]),
                                       environment: [:], defaultHTTPPort: 0)
        _ = Observability.registry
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = ObservabilityServer.service(
            config: config, router: ObservabilityServer.router(config: config, health: health),
            logger: Logger(label: "test"), onRunning: { continuation.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await body(port)
            group.cancelAll()
        }
    }

    private func get(_ port: Int, _ path: String) async throws -> (status: Int, type: String?, body: String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Content-Type"),
                String(decoding: data, as: UTF8.self))
    }

    @Test func healthIsOkWhileEveryCheckPasses() async throws {
        let health = HealthChecks()
        health.set("mqtt", healthy: true, detail: "connected")
        try await withServer(health: health) { port in
            let response = try await get(port, "/health")
            #expect(response.status == 200)
            #expect(response.body.contains(#""status":"ok""#))
            #expect(response.body.contains(#""service":"stream""#))
            #expect(response.body.contains(#""mqtt":{"detail":"connected","healthy":true}"#))
        }
    }

    @Test func healthIs503WhenACheckFails() async throws {
        let health = HealthChecks()
        health.set("mqtt", healthy: true)
        health.set("store", healthy: false, detail: "disk full")
        try await withServer(health: health) { port in
            let response = try await get(port, "/health")
            #expect(response.status == 503)
            #expect(response.body.contains("disk full"))
        }
    }

    @Test func aFailingNonCriticalCheckDegradesButStays200() async throws {
        let health = HealthChecks()
        health.set("mqtt", healthy: true)
        health.set("device:press-3", healthy: false, detail: "timeout", critical: false)
        try await withServer(health: health) { port in
            let response = try await get(port, "/health")
            #expect(response.status == 200)
            #expect(response.body.contains(#""status":"degraded""#))
            #expect(response.body.contains(#""device:press-3":{"critical":false,"detail":"timeout","healthy":false}"#))
        }
    }

    @Test func metricsServesPrometheusTextIncludingServiceCounters() async throws {
        _ = Observability.registry  // a counter made before the bootstrap would count into the void
        Counter(label: "observability_test_events_total").increment(by: 3)
        try await withServer(health: HealthChecks()) { port in
            let response = try await get(port, "/metrics")
            #expect(response.status == 200)
            #expect(response.type?.hasPrefix("text/plain") == true)
            #expect(response.body.contains("observability_test_events_total 3"))
            #expect(response.body.contains(#"shopfloor_build_info{service="stream""#))
        }
    }
}

@Suite("JSONLogHandler")
struct JSONLogHandlerTests {
    @Test func rendersOneJSONObjectWithMetadata() throws {
        var handler = JSONLogHandler(label: "shopfloor.gateway", service: "gateway")
        handler[metadataKey: "device"] = "press-3"
        let event = LogEvent(level: .warning, message: "register read failed", metadata: ["register": "40001"],
                             source: "Gateway", file: "Gateway/Poller.swift", function: "poll()", line: 42)
        let data = try #require(handler.render(event, at: Date(timeIntervalSince1970: 0)))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["msg"] as? String == "register read failed")
        #expect(object["device"] as? String == "press-3")
        #expect(object["register"] as? String == "40001")
        #expect(object["service"] as? String == "gateway")
        #expect(object["loc"] as? String == "Poller.swift:42")
        #expect(object["ts"] as? String == "1970-01-01T00:00:00.000Z")
        #expect(!data.contains(UInt8(ascii: "\n")))
    }
}
