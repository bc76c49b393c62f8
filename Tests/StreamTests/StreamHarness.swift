import Foundation
import Logging
import MQTT
import ServiceLifecycle
import ServiceRuntime
import Sparkplug
import StreamCore
import TestSupport

/// One in-process `stream` host against the test broker, with its own SQLite store, journal, host id,
/// Sparkplug group and UNS prefix, so tests never see each other's data.
final class StreamHarness: Sendable {
    let directory: String
    let hostID: String
    let group: String
    let prefix: String
    let runtime: RuntimeConfig
    let config: StreamConfig
    let store: SQLiteTimeSeriesStore
    let host: StreamHost
    let serviceGroup: ServiceGroup
    let broker: (host: String, port: Int)

    /// A primary with a fresh directory, or (with `sharing`) another instance on the same store, host id,
    /// group and UNS prefix as `sharing`, with its own journal and instance name.
    init(reorderTimeoutMS: Int = 300, rebirthIntervalMS: Int = 0, role: StreamRole = .primary,
         sharing other: StreamHarness? = nil) async throws {
        broker = try TestEnvironment.mqttBroker()
        let id = String(UUID().uuidString.lowercased().prefix(8))
        directory = other?.directory ?? NSTemporaryDirectory() + "stream-test-\(id)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        hostID = other?.hostID ?? "host-\(id)"
        group = other?.group ?? "group-\(id)"
        prefix = other?.prefix ?? "test/\(id)"
        let environment = ["MQTT_URL": "mqtt://\(broker.host):\(broker.port)", "INSTANCE": "i-\(id)",
                           "UNS_PREFIX": prefix]
        runtime = try RuntimeConfig(service: "stream", options: try RuntimeOptions.parse([]), environment: environment,
                                    defaultHTTPPort: 0)
        config = try StreamConfig(flags: StreamFlags(store: "sqlite:\(directory)/stream.db", hostID: hostID,
                                                     role: role.rawValue, journal: "\(directory)/\(id).journal",
                                                     batchIntervalMS: "5", reorderTimeoutMS: "\(reorderTimeoutMS)",
                                                     rebirthIntervalMS: "\(rebirthIntervalMS)", groups: group),
                                  environment: [:])
        store = try await SQLiteTimeSeriesStore.open(path: "\(directory)/stream.db")
        var logger = Logger(label: "stream-test")
        logger.logLevel = .warning
        host = StreamHost(config: config, runtime: runtime, health: HealthChecks(), logger: logger, store: store)
        serviceGroup = ServiceGroup(configuration: .init(services: [host], logger: logger))
    }

    /// Starts the host in the background; `stop()` shuts it down gracefully.
    func start() -> Task<Void, any Error> {
        Task { try await serviceGroup.run() }
    }

    func stop(_ running: Task<Void, any Error>) async throws {
        await serviceGroup.triggerGracefulShutdown()
        try await running.value
        await store.close()
    }

    /// Runs the host until `body` returns, then shuts it down gracefully and waits for it to stop.
    func run<T: Sendable>(_ body: @Sendable (StreamHarness) async throws -> T) async throws -> T {
        let running = Task { try await serviceGroup.run() }
        do {
            let result = try await body(self)
            await serviceGroup.triggerGracefulShutdown()
            try await running.value
            await store.close()
            return result
        } catch {
            await serviceGroup.triggerGracefulShutdown()
            _ = try? await running.value
            await store.close()
            throw error
        }
    }

    /// A plain client for the edge node or an observer.
    func client(_ name: String) async throws -> MQTTClient {
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port,
                                                                      clientID: "\(name)-\(hostID)"))
        try await client.connect()
        return client
    }

    var stateTopic: String { "spBv1.0/STATE/\(hostID)" }

    func topic(_ verb: SparkplugTopic.Verb, device: String? = nil) -> String {
        (try? SparkplugTopic(group: group, verb: verb, edgeNode: "edge", device: device).description) ?? ""
    }

    /// Publishes a Sparkplug payload as the edge node would (QoS 1 so the test knows it reached the broker).
    func publish(_ edge: MQTTClient, _ verb: SparkplugTopic.Verb, device: String? = nil, _ payload: Payload) async throws {
        try await edge.publish(topic: topic(verb, device: device), payload: payload.encode(), qos: .atLeastOnce)
    }

    /// Waits until the host's STATE birth is retained, i.e. it is subscribed and running.
    func waitUntilOnline(_ observer: MQTTClient, messages: LockedValue<[MQTTMessage]>) async throws {
        try await poll("STATE online of \(hostID)") {
            messages.value.contains { message in
                message.topic == stateTopic && (try? HostState(decoding: message.payload))?.online == true
            }
        }
    }

    func counts() async throws -> StoreCounts { try await store.counts() }
}

/// Collects everything a client receives, for polling.
func collect(_ client: MQTTClient) -> (LockedValue<[MQTTMessage]>, Task<Void, Never>) {
    let messages = LockedValue<[MQTTMessage]>([])
    let task = Task {
        for await message in client.messages {
            messages.withLock { $0.append(message) }
        }
    }
    return (messages, task)
}
