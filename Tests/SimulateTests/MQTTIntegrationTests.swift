import Foundation
import Logging
import MQTT
import Modbus
import ServiceRuntime
import Sparkplug
import TestSupport
import Testing
@testable import Simulate

/// Fault commands and Sparkplug load mode against a real mosquitto (MQTT_HOST / MQTT_PORT).
@Suite(.serialized) struct MQTTIntegrationTests {
    private func runtimeConfig(prefix: String) throws -> RuntimeConfig {
        let broker = try TestEnvironment.mqttBroker()
        return try RuntimeConfig(
            service: "simulate", options: RuntimeOptions.parse([]),
            environment: [
                "MQTT_URL": "mqtt://\(broker.host):\(broker.port)", "UNS_PREFIX": prefix, "INSTANCE": "test",
            ], defaultHTTPPort: 0)
    }

    private func client(_ name: String) throws -> MQTTClient {
        let broker = try TestEnvironment.mqttBroker()
        return try MQTTClient(
            configuration: MQTTConfiguration(
                host: broker.host, port: broker.port, clientID: TestEnvironment.uniqueName(name, separator: "-")))
    }

    @Test func aFaultCommandOverMQTTReachesAModbusClientAndIsReportedOnTheUNS() async throws {
        let prefix = TestEnvironment.uniqueName("simtest", separator: "-") + "/v1"
        let config = try runtimeConfig(prefix: prefix)
        let plant = try PlantFile.load(path: PlantFileTests.defaultPlantPath)
        let simulate = try SimulateConfig(
            options: SimulateOptions.parse([]),
            environment: ["MODBUS_PORT": "25300", "SEED": "1"])
        let logger = Logger(label: "test")
        let faults = try FaultCommandService(plant: plant, config: config, logger: logger)
        let service = PlantService(
            plant: plant, config: simulate, scenario: [], health: HealthChecks(),
            faultReporter: faults, logger: logger)
        faults.attach(service)
        let observer = try client("observer")
        try await observer.connect()
        _ = try await observer.subscribe(to: "\(prefix)/+/+/+/+/+/event/simulate.fault_injected")
        let running = Task {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await service.run() }
                group.addTask { try await faults.run() }
            }
        }
        defer { running.cancel() }

        // The plant is up when machine 0 answers; the command topic is live when a command takes effect.
        try await poll("machine 0 answering") {
            (try? await ModbusClientScript.run(port: 25300, unit: 1, ["hr:0:1"]))?.first?.values != nil
        }
        let started = ContinuousClock.now
        try await poll("the fault to reach a Modbus client", timeout: .seconds(15), interval: .milliseconds(300)) {
            try await observer.publish(
                topic: "\(prefix)/_svc/simulate/fault",
                payload: Array(#"{"machine":"press-1","kind":"exception(6)","duration":20}"#.utf8),
                qos: .atLeastOnce)
            return try await ModbusClientScript.run(port: 25300, unit: 1, ["hr:0:1"]).first?.exception == 6
        }
        let events = try await observer.messages.first(1)
        #expect(events[0].topic == "\(prefix)/acme/dresden/body-shop/line-1/press-1/event/simulate.fault_injected")
        let event = try JSONSerialization.jsonObject(with: Data(events[0].payload)) as? [String: Any]
        #expect(event?["type"] as? String == "io.shopfloor.simulate.fault_injected.v1")
        let data = event?["data"] as? [String: Any]
        #expect(data?["kind"] as? String == "exception" && data?["argument"] as? Int == 6)
        #expect(data?["origin"] as? String == "mqtt")
        // Other machines are unaffected.
        #expect(try await ModbusClientScript.run(port: 25301, unit: 2, ["hr:0:1"]).first?.values != nil)
        running.cancel()
        await observer.disconnect()
    }

    @Test func loadModeFollowsTheSparkplugRulesAndAnswersRebirth() async throws {
        let config = try runtimeConfig(prefix: "uns/v1")
        let group = TestEnvironment.uniqueName("load", separator: "-")
        let observer = try client("sp-observer")
        try await observer.connect()
        _ = try await observer.subscribe(to: "spBv1.0/\(group)/#")
        let node = try LoadNodeConnection(
            node: SparkplugLoadNode(group: group, node: "edge-0", devices: 2, metrics: 3),
            config: config, messages: .init(label: "test_messages"), logger: Logger(label: "test"))
        let running = Task { await node.run(rate: 200, until: .now + .seconds(30)) }
        defer { running.cancel() }

        // Births, then enough DDATA to cross seq 255 → 0.
        var received = try await observer.messages.first(300, timeout: .seconds(20))
        // Ask for a rebirth, then wait for the new NBIRTH.
        let rebirth = try Payload(metrics: [
            Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(true))
        ]).encode()
        try await observer.publish(topic: "spBv1.0/\(group)/NCMD/edge-0", payload: rebirth, qos: .atLeastOnce)
        var sawRebirth = false
        for try await message in observer.messages {
            if message.topic.hasSuffix("/NCMD/edge-0") { continue }
            received.append(message)
            if message.topic == "spBv1.0/\(group)/NBIRTH/edge-0" { sawRebirth = true }
            if sawRebirth, received.count > 305 { break }
        }
        running.cancel()
        _ = await running.value
        // Graceful stop: NDEATH with the session's bdSeq.
        let stream = observer.messages
        let death = try await withTimeout("NDEATH", .seconds(10)) {
            for await message in stream where message.topic.hasSuffix("/NDEATH/edge-0") { return message }
            throw TestEnvironment.Missing(description: "the message stream ended before the NDEATH")
        }
        await observer.disconnect()

        let decoded = try received.map { ($0.topic, try Payload(decoding: $0.payload)) }
        #expect(decoded[0].0 == "spBv1.0/\(group)/NBIRTH/edge-0")
        #expect(decoded[0].1.seq == 0)
        let bdSeq = decoded[0].1.metrics.first { $0.name == "bdSeq" }?.value
        #expect(decoded[1].0.hasSuffix("/DBIRTH/edge-0/device-0") && decoded[2].0.hasSuffix("/DBIRTH/edge-0/device-1"))
        let seqs = decoded.map { $0.1.seq ?? 999 }
        let rebirthIndex = try #require(decoded.indices.dropFirst().first { decoded[$0].0.hasSuffix("/NBIRTH/edge-0") })
        #expect(seqs[rebirthIndex] == 0)
        #expect(decoded[rebirthIndex].1.metrics.first { $0.name == "bdSeq" }?.value == bdSeq, "a rebirth keeps bdSeq")
        for index in 1..<rebirthIndex {
            #expect(SequenceNumber.follows(seqs[index - 1], seqs[index]), "seq \(seqs[index - 1]) → \(seqs[index])")
        }
        #expect(death.topic == "spBv1.0/\(group)/NDEATH/edge-0")
        #expect(try Payload(decoding: death.payload).metrics.first { $0.name == "bdSeq" }?.value == bdSeq)
    }
}
