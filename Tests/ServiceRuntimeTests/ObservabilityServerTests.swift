import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import Testing

@testable import ServiceRuntime

@Suite("ObservabilityServer")
struct ObservabilityServerTests {
    private func makeApp(health: HealthChecks) throws -> some ApplicationProtocol {
        let config = try RuntimeConfig(service: "stream", options: RuntimeOptions.parse([]), environment: [:],
                                       defaultHTTPPort: 0)
        _ = Observability.registry
        return Application(router: ObservabilityServer.router(config: config, health: health))
    }

    @Test func healthIsOkWhileEveryCheckPasses() async throws {
        let health = HealthChecks()
        health.set("mqtt", healthy: true, detail: "connected")
        try await makeApp(health: health).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains(#""status":"ok""#))
                #expect(body.contains(#""service":"stream""#))
                #expect(body.contains(#""mqtt":{"detail":"connected","healthy":true}"#))
            }
        }
    }

    @Test func healthIs503WhenACheckFails() async throws {
        let health = HealthChecks()
        health.set("mqtt", healthy: true)
        health.set("store", healthy: false, detail: "disk full")
        try await makeApp(health: health).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("disk full"))
            }
        }
    }

    @Test func metricsServesPrometheusTextIncludingServiceCounters() async throws {
        _ = Observability.registry  // a counter made before the bootstrap would count into the void
        Counter(label: "observability_test_events_total").increment(by: 3)
        try await makeApp(health: HealthChecks()).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let body = String(buffer: response.body)
                #expect(body.contains("observability_test_events_total 3"))
                #expect(body.contains(#"shopfloor_build_info{service="stream""#))
            }
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
