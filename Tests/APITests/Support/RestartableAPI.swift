@testable import APICore
import EventSchema
import Foundation
import Logging
import MQTT
import ServiceLifecycle
import ServiceRuntime
import TestSupport

/// An api that a test stops and starts again on the same store, UNS prefix, instance and broker: what a
/// restart (or an outage of the broker) looks like from outside. `run` starts one life of it.
struct RestartableAPI: Sendable {
    let storePath: String
    let prefix: String
    let instance: String
    var broker: (host: String, port: Int)

    /// A fresh store file in a temporary folder, a fresh prefix and instance.
    init(broker: (host: String, port: Int)) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("api-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        storePath = directory.appendingPathComponent("api.db").path
        prefix = "r" + UUID().uuidString.prefix(8).lowercased() + "/v1"
        instance = "restart-" + UUID().uuidString.prefix(8).lowercased()
        self.broker = broker
    }

    /// Removes the store's folder.
    func removeStore() {
        try? FileManager.default.removeItem(atPath: (storePath as NSString).deletingLastPathComponent)
    }

    /// One life of the api: built, started, `body` run with it and an admin token, then shut down gracefully.
    /// `waitForBroker`: wait until both MQTT clients are connected and the feed receives before `body`.
    func run(waitForBroker: Bool = true, _ body: @Sendable (APIApplication, TestHTTPClient, String) async throws -> Void) async throws {
        let options = try RuntimeOptions.parse([
            "--mqtt-url", "mqtt://\(broker.host):\(broker.port)", "--http-port", "0", "--http-host", "127.0.0.1",
            "--uns-prefix", prefix, "--instance", instance,
        ])
        let runtime = try RuntimeConfig(service: "api", options: options, environment: [:], defaultHTTPPort: 0)
        // A short session expiry: the test broker forgets these sessions soon after the test.
        let config = APIConfig(store: .sqlite(path: storePath), sessionExpiry: 120)
        var logger = Logger(label: "api-restart-test")
        logger.logLevel = .critical
        let health = HealthChecks()
        let app = try await APIApplication.build(config: config, runtime: runtime, health: health, logger: logger)
        let port = LockedValue<Int?>(nil)
        let group = ServiceGroup(configuration: .init(
            services: app.services(health: health) { bound in port.withLock { $0 = bound } }.map { .init(service: $0) },
            logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await poll("the api to listen") { port.value != nil }
                if waitForBroker {
                    try await poll("the api's MQTT clients to connect") { app.client.isConnected && app.feed.client.isConnected }
                }
                if try await app.store.users().isEmpty {
                    _ = try await app.store.createUser(name: "ada", role: .admin, password: "password-ada")
                }
                let token = try await app.store.createSession(user: "ada", lifetime: .seconds(600)).secret
                try await body(app, TestHTTPClient(port: port.value ?? 0), token)
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

    /// A connected MQTT client on the same broker (disconnect it at the end).
    func mqttClient() async throws -> MQTTClient {
        let client = try MQTTClient(configuration: MQTTConfiguration(
            host: broker.host, port: broker.port, clientID: "api-restart-test-\(UUID().uuidString.prefix(12))"))
        try await client.connect()
        return client
    }

    /// Publishes `event` as `stream` would (QoS 1).
    func publish<Event: ShopfloorEvent>(_ event: Event, id: String, time: Date) async throws {
        let client = try await mqttClient()
        let data = try event.cloudEvent(source: "/shopfloor/stream/test", id: id, time: time).jsonData()
        try await client.publish(MQTTMessage(topic: try event.topic(prefix: prefix).description, payload: Array(data),
                                             qos: .atLeastOnce))
        await client.disconnect()
    }

    /// Publishes a retained UNS value (QoS 1).
    func publishValue(asset: String, metric: String, value: Double) async throws {
        let client = try await mqttClient()
        let payload = #"{"value": \#(value), "quality": "good", "ts": "\#(RFC3339.string(from: Date()))"}"#
        try await client.publish(MQTTMessage(topic: "\(prefix)/\(asset)/value/\(metric)", text: payload, qos: .atLeastOnce,
                                             retain: true))
        await client.disconnect()
    }
}

/// A mosquitto of the test's own on a free port, which the test stops and starts to simulate an outage.
/// Started and stopped by its process id only.
final class PrivateBroker: @unchecked Sendable {
    // `process` is only touched by the test task that owns this broker (start/stop are awaited in sequence).
    let port: Int
    private var process: Process?

    init() throws {
        port = try Self.freePort()
    }

    /// Starts mosquitto on `port` (loopback, no configuration: anonymous, no persistence) and waits until it accepts.
    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.mosquittoPath)
        process.arguments = ["-p", "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try await poll("mosquitto to listen on \(port)") { Self.accepts(port: port) }
    }

    /// Stops it (SIGKILL to its pid) and waits until the port is closed.
    func stop() async throws {
        guard let process else { return }
        // SIGKILL, not SIGTERM: the child inherits the test process's signal mask, in which ServiceLifecycle
        // has blocked SIGTERM and SIGINT. For the api a broker killed is an outage like any other.
        kill(process.processIdentifier, SIGKILL)
        // waitUntilExit blocks: off the cooperative pool.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume()
            }
        }
        self.process = nil
        try await poll("mosquitto to stop listening on \(port)") { !Self.accepts(port: port) }
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    static var mosquittoPath: String {
        ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto"]
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/mosquitto"
    }

    /// A port the kernel just handed out (bound to port 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BrokerSetupError(message: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw BrokerSetupError(message: "bind() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// The test could not find a free port for its broker.
struct BrokerSetupError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
