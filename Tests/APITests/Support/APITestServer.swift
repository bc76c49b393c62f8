@testable import APICore
import EventSchema
import Foundation
import Logging
import MQTT
import ServiceLifecycle
import ServiceRuntime
import TestSupport

/// A real api on a free port with its own SQLite file and its own UNS prefix on the test broker, plus an
/// admin, an operator and a viewer already logged in. `run` starts it, runs the test body, stops it.
struct APITestServer: Sendable {
    let app: APIApplication
    let http: TestHTTPClient
    let prefix: String
    let broker: (host: String, port: Int)
    var admin: String
    var operatorToken: String
    var viewer: String

    /// The asset most tests publish about.
    static let press = "acme/plant1/press-area/line-1/press-3"

    static func run(requestTimeoutMS: Int = 5000, reasons: ReasonTree = .standard,
                    _ body: @Sendable (APITestServer) async throws -> Void) async throws {
        let broker = try TestEnvironment.mqttBroker()
        let prefix = "t" + UUID().uuidString.prefix(8).lowercased() + "/v1"
        let options = try RuntimeOptions.parse([
            "--mqtt-url", "mqtt://\(broker.host):\(broker.port)", "--http-port", "0", "--http-host", "127.0.0.1",
            "--uns-prefix", prefix, "--instance", "test-" + UUID().uuidString.prefix(8).lowercased(),
        ])
        let runtime = try RuntimeConfig(service: "api", options: options, environment: [:], defaultHTTPPort: 0)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("api-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = APIConfig(store: .sqlite(path: directory.appendingPathComponent("api.db").path), reasons: reasons,
                               requestTimeout: .milliseconds(requestTimeoutMS), publicDirectory: nil)
        var logger = Logger(label: "api-test")
        logger.logLevel = .warning
        let health = HealthChecks()
        let app = try await APIApplication.build(config: config, runtime: runtime, health: health, logger: logger)
        let port = LockedValue<Int?>(nil)
        let group = ServiceGroup(configuration: .init(
            services: app.services(health: health) { bound in port.withLock { $0 = bound } }.map { .init(service: $0) },
            logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await poll("the api to listen") { port.value != nil && app.client.isConnected }
                let http = TestHTTPClient(port: port.value ?? 0)
                // Users are made in the store directly, as `api admin create` does.
                for (name, role) in [("ada", Role.admin), ("otto", .operator), ("vera", .viewer)] {
                    _ = try await app.store.createUser(name: name, role: role, password: "password-\(name)")
                }
                var server = APITestServer(app: app, http: http, prefix: prefix, broker: broker, admin: "", operatorToken: "", viewer: "")
                server.admin = try await server.login("ada", "password-ada")
                server.operatorToken = try await server.login("otto", "password-otto")
                server.viewer = try await server.login("vera", "password-vera")
                // The feed's subscription is in place once a retained probe comes back through it.
                try await server.publishValue(asset: "acme/probe", metric: "ready", value: 1)
                try await poll("the UNS feed to be subscribed") { app.cache.values(of: "acme/probe") != nil }
                try await body(server)
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                await app.store.close()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            await app.store.close()
        }
    }

    /// Logs in and returns the bearer token.
    func login(_ user: String, _ password: String) async throws -> String {
        let result = try await http.post("/v1/auth/login", json: ["user": user, "password": password])
        guard result.status == 200, let token = result.object["token"] as? String else {
            throw TestHTTPError("login of \(user) failed: \(result.status) \(result.text)")
        }
        return token
    }

    /// A connected MQTT client of the test (disconnect it at the end).
    func mqttClient() async throws -> MQTTClient {
        let client = try MQTTClient(configuration: MQTTConfiguration(
            host: broker.host, port: broker.port, clientID: "api-test-\(UUID().uuidString.prefix(12))"))
        try await client.connect()
        return client
    }

    /// Publishes a retained UNS value.
    func publishValue(asset: String, metric: String, value: Double, ts: String = "2026-11-22T08:00:00Z") async throws {
        let client = try await mqttClient()
        let payload = #"{"value": \#(value), "unit": "°C", "quality": "good", "ts": "\#(ts)"}"#
        try await client.publish(MQTTMessage(topic: "\(prefix)/\(asset)/value/\(metric)", text: payload, qos: .atLeastOnce, retain: true))
        await client.disconnect()
    }

    /// Publishes `event` (as `stream` would) with the given CloudEvent id and time, `times` times.
    func publish<Event: ShopfloorEvent>(_ event: Event, id: String, time: Date, times: Int = 1) async throws {
        let client = try await mqttClient()
        let data = try event.cloudEvent(source: "/shopfloor/stream/test", id: id, time: time).jsonData()
        let topic = try event.topic(prefix: prefix).description
        for _ in 0..<times {
            try await client.publish(MQTTMessage(topic: topic, payload: Array(data), qos: .atLeastOnce))
        }
        await client.disconnect()
    }
}

/// Dates for hand-made timelines.
func at(_ text: String) -> Date { RFC3339.date(from: text) ?? Date(timeIntervalSince1970: 0) }
