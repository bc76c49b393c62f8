import EventSchema
import Foundation
import Logging
import MQTT
import Metrics
import ServiceLifecycle

/// Keeps this instance's retained status on `<prefix>/_svc/<service>/status/<instance>`, so anyone with an
/// MQTT client sees which services run: `online` after every connect, `offline` on a clean stop, and the
/// same `offline` as the MQTT will when the process dies or loses the broker. It also reports the broker
/// connection as the `mqtt` check of `/health`.
public final class ServiceStatusPublisher: Service {
    private let config: RuntimeConfig
    private let client: MQTTClient
    private let health: HealthChecks
    private let logger: Logger
    private let started = Date()
    private let reconnects: Counter
    /// How long a clean stop waits for the broker to acknowledge the `offline` status.
    private let goodbyeTimeout: Duration = .seconds(2)

    /// The status JSON: `{"status":"online","service":…,"instance":…,"version":…,"since":…}`.
    struct Status: Codable, Equatable {
        var status: String
        var service: String
        var instance: String
        var version: String
        var since: String
    }

    public init(config: RuntimeConfig, health: HealthChecks, logger: Logger) throws {
        self.config = config
        self.health = health
        self.logger = logger
        reconnects = Counter(label: "shopfloor_mqtt_connects_total", dimensions: [("service", config.service)])
        var mqtt = MQTTConfiguration(
            host: config.broker.host, port: config.broker.port,
            clientID: "\(config.service)-status-\(config.instance)",
            username: config.broker.username, password: config.broker.password,
            tls: config.broker.usesTLS ? .init() : nil)
        mqtt.will = MQTTWill(topic: config.statusTopic.description,
                             payload: Self.payload(Self.status("offline", config: config, since: started)),
                             qos: .atLeastOnce, retain: true)
        client = try MQTTClient(configuration: mqtt, logger: logger)
        health.set("mqtt", healthy: false, detail: "connecting to \(config.broker)")
    }

    public func run() async throws {
        client.start()
        for await event in client.connectionEvents().cancelOnGracefulShutdown() {
            switch event {
            case .connected:
                reconnects.increment()
                health.set("mqtt", healthy: true, detail: "connected to \(config.broker)")
                await publish("online")
            case .disconnected(let error):
                health.set("mqtt", healthy: false, detail: error.map { "\($0)" } ?? "disconnected")
                if let error { logger.warning("broker connection lost", metadata: ["error": "\(error)"]) }
            }
        }
        // Graceful shutdown: say goodbye ourselves rather than leaving it to the will. The broker may be going
        // away at this very moment (a whole plant stopping): a QoS 1 publish would then wait for its return, so
        // the goodbye gets `goodbyeTimeout`, and disconnect() ends a wait still pending (the will says offline).
        if client.isConnected {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask { await self.publish("offline") }
                group.addTask { [goodbyeTimeout] in
                    try? await Task.sleep(for: goodbyeTimeout)
                    return false
                }
                if await group.next() != true {
                    logger.warning("no acknowledgement for the offline status; leaving it to the will",
                                   metadata: ["waited": "\(goodbyeTimeout)"])
                    await client.disconnect(sendWill: true)
                }
                group.cancelAll()
            }
        }
        await client.disconnect()
    }

    /// True when the broker acknowledged it.
    @discardableResult
    private func publish(_ status: String) async -> Bool {
        let message = MQTTMessage(topic: config.statusTopic.description,
                                  payload: Self.payload(Self.status(status, config: config, since: started)),
                                  qos: .atLeastOnce, retain: true)
        do {
            try await client.publish(message)
            logger.debug("published status", metadata: ["status": "\(status)", "topic": "\(message.topic)"])
            return true
        } catch {
            logger.warning("could not publish status", metadata: ["status": "\(status)", "error": "\(error)"])
            return false
        }
    }

    static func status(_ status: String, config: RuntimeConfig, since: Date) -> Status {
        Status(status: status, service: config.service, instance: config.instance,
               version: ShopfloorVersion.current, since: RFC3339.string(from: since))
    }

    static func payload(_ status: Status) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(status)) ?? Data())
    }
}
