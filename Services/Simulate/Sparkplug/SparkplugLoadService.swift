import Foundation
import Logging
import MQTT
import Metrics
import ServiceLifecycle
import ServiceRuntime
import Sparkplug
import Synchronization

/// `simulate --sparkplug`: N Sparkplug B edge nodes with D devices of M metrics each, publishing DDATA at a
/// fixed rate per node, to load `stream` without a gateway and to benchmark it. Each node has its own MQTT
/// connection with its NDEATH as the will, births on every (re)connect and on a Rebirth NCMD, and says
/// goodbye with an NDEATH on graceful shutdown.
final class SparkplugLoadService: Service {
    private let options: SparkplugLoadOptions
    private let nodes: [LoadNodeConnection]
    private let logger: Logger
    private let health: HealthChecks

    init(options: SparkplugLoadOptions, config: RuntimeConfig, health: HealthChecks, logger: Logger) throws {
        self.options = options
        self.logger = logger
        self.health = health
        let messages = Counter(label: "simulate_sparkplug_messages_total", dimensions: [("group", options.group)])
        nodes = try (0..<options.nodes).map { index in
            try LoadNodeConnection(
                node: SparkplugLoadNode(
                    group: options.group, node: "\(options.nodePrefix)-\(index)",
                    devices: options.devices, metrics: options.metrics),
                config: config, messages: messages, logger: logger)
        }
    }

    func run() async throws {
        health.set("sparkplug", healthy: true, detail: "\(options.nodes) edge nodes in group \(options.group)")
        logger.info("sparkplug load starting", metadata: ["load": "\(options)"])
        let start = ContinuousClock.now
        let end = options.duration.map { start + .milliseconds(Int64($0 * 1000)) }
        let sent = await withTaskGroup(of: Int.self) { group in
            for node in nodes {
                group.addTask { await node.run(rate: self.options.rate, until: end) }
            }
            return await group.reduce(0, +)
        }
        let seconds =
            Double((ContinuousClock.now - start).components.seconds)
            + Double((ContinuousClock.now - start).components.attoseconds) / 1e18
        logger.notice(
            "sparkplug load finished",
            metadata: [
                "messages": "\(sent)", "seconds": "\(String(format: "%.2f", seconds))",
                "messagesPerSecond": "\(String(format: "%.0f", Double(sent) / max(seconds, 0.001)))",
            ])
        health.set("sparkplug", healthy: true, detail: "finished: \(sent) messages")
        if options.duration != nil, !Task.isShuttingDownGracefully {
            // The run is over: stop the whole process the way an operator would, so every other service
            // (status topic, HTTP) shuts down gracefully too. ServiceGroup treats a service that returns on
            // its own as a failure, hence the signal instead of returning.
            kill(getpid(), SIGTERM)
            try? await gracefulShutdown()
        }
    }
}

/// The load mode's flags, resolved.
struct SparkplugLoadOptions: Sendable, CustomStringConvertible {
    var group: String
    var nodePrefix: String
    var nodes: Int
    var devices: Int
    var metrics: Int
    /// DDATA messages per second per node; 0 = as fast as the broker takes them.
    var rate: Double
    /// Seconds to run; nil = until SIGTERM.
    var duration: Double?

    var description: String {
        "group=\(group) nodes=\(nodes) devices=\(devices) metrics=\(metrics) rate=\(rate)/s/node"
            + (duration.map { " duration=\($0)s" } ?? "")
    }
}

/// One edge node's MQTT connection and the single task that publishes for it, so `seq` goes out in order.
final class LoadNodeConnection: Sendable {
    private let state: NodeState
    /// Set on (re)connect and on a Rebirth NCMD; the publishing task sends the births before any more data.
    private let needsBirth = Atomic<Bool>(true)
    private let client: MQTTClient
    private let commandTopic: String
    private let messages: Counter
    private let logger: Logger

    init(node: SparkplugLoadNode, config: RuntimeConfig, messages: Counter, logger: Logger) throws {
        let state = NodeState(node)
        self.state = state
        self.messages = messages
        self.logger = logger
        commandTopic = try SparkplugTopic(group: node.group, verb: .ncmd, edgeNode: node.node).description
        var mqtt = MQTTConfiguration(
            host: config.broker.host, port: config.broker.port, clientID: "simulate-\(node.group)-\(node.node)",
            username: config.broker.username, password: config.broker.password,
            tls: config.broker.usesTLS ? .init() : nil)
        // Sparkplug 3.0: every CONNECT carries an NDEATH will with a new bdSeq, which the NBIRTH repeats.
        mqtt.willProvider = {
            guard let death = try? state.node.withLock({ try $0.newSession() }) else { return nil }
            return MQTTWill(topic: death.topic, payload: death.payload, qos: .atLeastOnce, retain: false)
        }
        client = try MQTTClient(configuration: mqtt, logger: logger)
    }

    /// Publishes until `end` (or graceful shutdown), then the NDEATH; returns the number of messages sent.
    func run(rate: Double, until end: ContinuousClock.Instant?) async -> Int {
        client.start()
        let sent = await withTaskGroup(of: Int.self) { group in
            group.addTask {
                for await event in self.client.connectionEvents().cancelOnGracefulShutdown() {
                    guard case .connected = event else {
                        self.needsBirth.store(true, ordering: .sequentiallyConsistent)
                        continue
                    }
                    // Sparkplug 3.0: subscribe to NCMD before publishing the NBIRTH.
                    _ = try? await self.client.subscribe(to: self.commandTopic, qos: .atLeastOnce)
                    self.needsBirth.store(true, ordering: .sequentiallyConsistent)
                }
                return 0
            }
            group.addTask {
                for await message in self.client.messages.cancelOnGracefulShutdown()
                where message.topic == self.commandTopic && SparkplugLoadNode.isRebirthRequest(message.payload) {
                    self.logger.info("rebirth requested", metadata: ["topic": "\(message.topic)"])
                    self.needsBirth.store(true, ordering: .sequentiallyConsistent)
                }
                return 0
            }
            let count = await publishLoop(rate: rate, until: end)
            group.cancelAll()
            return count
        }
        if client.isConnected, let death = try? state.node.withLock({ try $0.death() }) {
            try? await client.publish(MQTTMessage(topic: death.topic, payload: death.payload, qos: .atLeastOnce))
        }
        await client.disconnect()
        return sent
    }

    private func publishLoop(rate: Double, until end: ContinuousClock.Instant?) async -> Int {
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0, data = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = clock.now
            if let end, now >= end { break }
            guard client.isConnected else {
                try? await clock.sleep(for: .milliseconds(20))
                continue
            }
            if needsBirth.exchange(false, ordering: .sequentiallyConsistent) {
                let stamp = Self.milliseconds()
                guard let births = try? state.node.withLock({ try $0.births(now: stamp) }) else { break }
                for birth in births {
                    if await publish(birth) { sent += 1 }
                }
                continue
            }
            // How many DDATA are due by now at this rate; at most 100 before looking at births again.
            var due = 100
            if rate > 0 {
                let elapsed = now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                due = min(100, Int(seconds * rate) - data)
                if due <= 0 {
                    try? await clock.sleep(for: .milliseconds(max(1, Int(1000 / rate))))
                    continue
                }
            }
            for _ in 0..<due {
                let stamp = Self.milliseconds()
                guard let message = try? state.node.withLock({ try $0.nextData(now: stamp) }) else { break }
                if await publish(message) { sent += 1 }
                data += 1
            }
        }
        return sent
    }

    private func publish(_ message: (topic: String, payload: [UInt8])) async -> Bool {
        do {
            // Sparkplug 3.0: BIRTH and DATA messages are QoS 0, not retained.
            try await client.publish(topic: message.topic, payload: message.payload, qos: .atMostOnce)
            messages.increment()
            return true
        } catch {
            logger.debug("publish failed", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
            return false
        }
    }

    private static func milliseconds() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}

/// The node's protocol state, shared by the will provider (network thread) and the publishing task.
private final class NodeState: Sendable {
    let node: Mutex<SparkplugLoadNode>
    init(_ node: SparkplugLoadNode) { self.node = Mutex(node) }
}
