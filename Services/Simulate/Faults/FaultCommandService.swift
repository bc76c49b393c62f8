import EventSchema
import Foundation
import Logging
import MQTT
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// Fault injection over MQTT: takes JSON commands on `<prefix>/_svc/simulate/fault`, applies them to the
/// plant, answers on the MQTT v5 Response Topic when one is given, and publishes every injection (from MQTT
/// or the scenario) as a `fault_injected` CloudEvent on the machine's UNS event topic.
final class FaultCommandService: Service, FaultReporter {
    private let plant: Plant
    private let prefix: String
    private let source: String
    private let client: MQTTClient
    private let logger: Logger
    private let commandTopic: String
    private let reports: AsyncStream<(InjectedFault, String)>
    private let reportsContinuation: AsyncStream<(InjectedFault, String)>.Continuation
    /// Set once by `attach`, before `run`; the plant service outlives this one (it starts first, stops last).
    private let injector = InjectorBox()

    init(plant: Plant, config: RuntimeConfig, logger: Logger) throws {
        self.plant = plant
        self.logger = logger
        prefix = config.unsPrefix
        source = "shopfloor/simulate/\(config.instance)"
        commandTopic = try UNSTopic.service("simulate", verb: "fault", prefix: config.unsPrefix).description
        let mqtt = MQTTConfiguration(
            host: config.broker.host, port: config.broker.port,
            clientID: "simulate-faults-\(config.instance)",
            username: config.broker.username, password: config.broker.password,
            tls: config.broker.usesTLS ? .init() : nil)
        client = try MQTTClient(configuration: mqtt, logger: logger)
        (reports, reportsContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1000))
    }

    /// Connects the plant that commands are applied to.
    func attach(_ plantService: PlantService) { injector.set(plantService) }

    func report(_ fault: InjectedFault, source: String) {
        reportsContinuation.yield((fault, source))
    }

    func run() async throws {
        client.start()
        await withDiscardingTaskGroup { group in
            group.addTask {
                // Clean start: the subscription is lost with the session, so subscribe after every connect.
                for await event in self.client.connectionEvents().cancelOnGracefulShutdown() {
                    guard case .connected = event else { continue }
                    do {
                        _ = try await self.client.subscribe(to: self.commandTopic, qos: .atLeastOnce)
                        self.logger.info("listening for fault commands", metadata: ["topic": "\(self.commandTopic)"])
                    } catch {
                        self.logger.warning("cannot subscribe to fault commands", metadata: ["error": "\(error)"])
                    }
                }
            }
            group.addTask {
                for await message in self.client.messages.cancelOnGracefulShutdown() {
                    await self.handle(message)
                }
            }
            group.addTask {
                for await (fault, origin) in self.reports.cancelOnGracefulShutdown() {
                    await self.publish(fault, origin: origin)
                }
            }
        }
        reportsContinuation.finish()
        await client.disconnect()
    }

    /// Applies one command; a bad one is logged and answered with the reason, never dropped silently.
    private func handle(_ message: MQTTMessage) async {
        guard message.topic == commandTopic else { return }
        let outcome: Result<InjectedFault, FaultCommandError>
        do {
            let command = try JSONDecoder().decode(FaultCommand.self, from: Data(message.payload))
            outcome = .success(try command.fault(in: plant))
        } catch let error as FaultCommandError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(
                FaultCommandError(
                    "expected JSON {\"machine\": …, \"kind\": …, \"duration\": seconds}: \(error)"))
        }
        switch outcome {
        case .success(let fault):
            injector.plant?.inject(fault, source: "mqtt")
        case .failure(let error):
            logger.warning("fault command refused", metadata: ["error": "\(error)"])
        }
        if let responseTopic = message.responseTopic {
            let body: [String: String] =
                switch outcome {
                case .success(let fault): ["status": "injected", "fault": "\(fault)"]
                case .failure(let error): ["status": "refused", "error": "\(error)"]
                }
            let payload = (try? JSONEncoder().encode(body)).map(Array.init) ?? []
            var reply = MQTTMessage(topic: responseTopic, payload: payload, qos: .atLeastOnce)
            reply.correlationData = message.correlationData
            try? await client.publish(reply)
        }
    }

    private func publish(_ fault: InjectedFault, origin: String) async {
        guard let machine = plant.machines.first(where: { $0.name == fault.machine }) else { return }
        do {
            let event = try FaultInjected(fault, machine: machine, plant: plant,
                                          origin: FaultInjected.Origin(rawValue: origin) ?? .mqtt)
            try await client.publish(
                MQTTMessage(topic: try event.topic(prefix: prefix).description,
                            payload: Array(event.cloudEvent(source: source).jsonData()), qos: .atLeastOnce))
        } catch {
            logger.warning("cannot report fault on the UNS", metadata: ["fault": "\(fault)", "error": "\(error)"])
        }
    }
}

/// The plant service, set after both services exist (they refer to each other).
private final class InjectorBox: Sendable {
    private let value = Mutex<PlantService?>(nil)
    func set(_ plant: PlantService) { value.withLock { $0 = plant } }
    var plant: PlantService? { value.withLock { $0 } }
}
