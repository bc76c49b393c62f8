import Foundation
import Logging
import MQTT
import Modbus
import ServiceLifecycle
import ServiceRuntime
import Sparkplug
import TestSupport
import Testing

@testable import Gateway

/// One decoded Sparkplug message as a host sees it.
struct Seen: Sendable {
    var verb: SparkplugTopic.Verb
    var device: String?
    var payload: Payload
    /// The metrics with name, datatype and typed value filled in from the births (for DATA), as a host
    /// resolves them.
    var metrics: [Metric]
    /// When the recorder received it.
    var received: ContinuousClock.Instant = .now
}

/// A host-side observer: subscribes to one group's Sparkplug topics and keeps every message, decoded.
final class SparkplugRecorder: Sendable {
    let client: MQTTClient
    let seen = LockedValue<[Seen]>([])
    /// DATA metrics no BIRTH declared (a Sparkplug violation the tests expect never to see).
    let unresolved = LockedValue<[String]>([])
    let group: String
    private let task: Task<Void, Never>
    private let stateTask: Task<Void, Never>?

    /// `primaryHost`: also act as that Sparkplug host application, publishing its online STATE (retained)
    /// after every connect, once the subscription is in place, so an edge node waiting for it births only
    /// when this recorder can see the birth.
    init(group: String, host: String, port: Int, persistentID: String? = nil, primaryHost: String? = nil) async throws {
        var configuration = MQTTConfiguration(host: host, port: port, clientID: persistentID ?? "rec-\(UUID().uuidString)",
                                              reconnect: .init(minimumDelay: .milliseconds(50), maximumDelay: .milliseconds(200)))
        if persistentID != nil { configuration.makePersistent() }
        client = try MQTTClient(configuration: configuration)
        self.group = group
        try await client.connect()
        try await client.subscribe(to: "spBv1.0/\(group)/#", qos: .atLeastOnce)
        if let primaryHost {
            let client = self.client
            let topic = try SparkplugTopic(stateOf: primaryHost).description
            stateTask = Task {
                // Resubscribed (sent before this event) ahead of the STATE, so the broker has it first.
                for await event in client.connectionEvents() {
                    guard case .connected = event else { continue }
                    let state = HostState(online: true, timestamp: EdgeNodeService.now())
                    try? await client.publish(topic: topic, payload: state.encode(), qos: .atLeastOnce, retain: true)
                }
            }
        } else {
            stateTask = nil
        }
        let seen = self.seen
        let unresolved = self.unresolved
        let client = self.client
        task = Task {
            var aliases = AliasTable()
            for await message in client.messages {
                guard let topic = SparkplugTopic(parsing: message.topic), case .edge(_, let verb, _, let device) = topic.kind,
                      let payload = try? Payload(decoding: message.payload)
                else { continue }
                var metrics = payload.metrics
                switch verb {
                case .nbirth, .dbirth:
                    do { try aliases.define(birth: payload, device: device) } catch {
                        unresolved.withLock { $0.append("\(error)") }
                    }
                case .ndata, .ddata:
                    metrics = payload.metrics.compactMap { metric in
                        do { return try aliases.resolve(metric, device: device) } catch {
                            unresolved.withLock { $0.append("\(error)") }
                            return nil
                        }
                    }
                default:
                    break
                }
                seen.withLock { $0.append(Seen(verb: verb, device: device, payload: payload, metrics: metrics)) }
            }
        }
    }

    /// Waits until a message matching `predicate` has arrived (after `index` messages) and returns it.
    @discardableResult
    func wait(for what: String, after index: Int = 0, timeout: Duration = .seconds(10),
              _ predicate: @escaping @Sendable (Seen) -> Bool) async throws -> Seen {
        let found = LockedValue<Seen?>(nil)
        try await TestSupport.poll(what, timeout: timeout) {
            let match = seen.value.dropFirst(index).first(where: predicate)
            found.withLock { $0 = match }
            return match != nil
        }
        return try #require(found.value)
    }

    var count: Int { seen.value.count }

    /// Sends a command as a host would.
    func command(_ verb: SparkplugTopic.Verb, edge: String, device: String? = nil, metrics: [Metric]) async throws {
        let topic = try SparkplugTopic(group: group, verb: verb, edgeNode: edge, device: device)
        let payload = Payload(timestamp: EdgeNodeService.now(), metrics: metrics)
        try await client.publish(topic: topic.description, payload: try payload.encode(), qos: .atMostOnce)
    }

    /// Publishes a STATE of host `id` (retained, QoS 1) as a host application would.
    func publishState(of id: String, online: Bool, timestamp: UInt64) async throws {
        try await client.publish(topic: SparkplugTopic(stateOf: id).description,
                                 payload: HostState(online: online, timestamp: timestamp).encode(),
                                 qos: .atLeastOnce, retain: true)
    }

    /// Removes the retained STATE of host `id`.
    func clearState(of id: String) async throws {
        try await client.publish(topic: SparkplugTopic(stateOf: id).description, payload: [], qos: .atLeastOnce,
                                 retain: true)
    }

    func stop() async {
        stateTask?.cancel()
        task.cancel()
        await client.disconnect()
    }
}

/// A running gateway inside the test process, stopped the way SIGTERM stops it.
struct RunningGateway {
    let service: EdgeNodeService
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(yaml: String, host: String, port: Int) async throws -> RunningGateway {
        let config = try GatewayConfig(yaml: yaml)
        var logger = Logger(label: "test.gateway")
        logger.logLevel = .warning
        let service = try EdgeNodeService(config: config, broker: try MQTTURL(parsing: "mqtt://\(host):\(port)"),
                                          clientID: "gw-\(UUID().uuidString)", health: HealthChecks(), logger: logger,
                                          statusInterval: .milliseconds(300))
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        let task = Task { try await group.run() }
        return RunningGateway(service: service, group: group, task: task)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// A gateway configuration for one test device: a unique group id and spool file per test.
func gatewayYAML(group: String, port: Int, interval: String = "100ms", spoolLimit: Int = 100_000,
                 primaryHost: String? = nil, extraTags: String = "") -> String {
    let spool = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
    return """
        groupId: \(group)
        edgeNodeId: edge-1
        \(primaryHost.map { "primaryHostId: \($0)" } ?? "")
        spool: {path: \(spool), maxMessages: \(spoolLimit), replayRate: 1000}
        pollGroups:
          - {name: fast, interval: \(interval)}
        devices:
          - name: machine-1
            host: 127.0.0.1
            port: \(port)
            unitId: 1
            timeout: 200ms
            retries: 0
            reconnectBackoff: {min: 100ms, max: 200ms}
            assetPath: acme/dresden/body-shop/line-1/machine-1
            tags:
              - {name: temperature, address: 40001, type: int16, scale: 0.1, unit: "°C"}
              - {name: count, address: 40002, type: uint32}
              - {name: setpoint, address: 40005, type: int16, scale: 0.1, unit: "°C", writable: true, min: -40, max: 400}
              - {name: run, address: "00001", type: bool, writable: true}
        \(extraTags)
        """
}

/// The MQTT broker the integration tests use (scripts/test-deps.sh provides it in CI).
func broker() throws -> (host: String, port: Int) { try TestEnvironment.mqttBroker() }
