import Foundation
import MQTT
import Testing
import TestSupport

@Suite("MQTT reconnect against a broker the test restarts")
struct MQTTReconnectTests {
    @Test func reconnectsResubscribesAndRenewsTheWill() async throws {
        let broker = try await TestBroker()
        let prefix = TestEnvironment.uniqueName()
        let willCalls = LockedValue(0)
        var config = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: TestEnvironment.uniqueName("re", separator: "-"))
        config.reconnect = .init(minimumDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
        config.willProvider = {
            let connectNumber = willCalls.withLock { count in
                count += 1
                return count
            }
            return MQTTWill(topic: "\(prefix)/will", payload: Array("bdSeq=\(connectNumber)".utf8))
        }
        let subscriber = try MQTTClient(configuration: config)
        var publisherConfig = config
        publisherConfig.clientID += "-pub"
        publisherConfig.willProvider = nil
        let publisher = try MQTTClient(configuration: publisherConfig)
        let events = subscriber.connectionEvents()
        try await subscriber.connect()
        try await publisher.connect()
        try await subscriber.subscribe(to: "\(prefix)/data", qos: .atLeastOnce)
        try await publisher.publish(topic: "\(prefix)/data", payload: [1], qos: .atLeastOnce)
        #expect(try await subscriber.messages.first(1).first?.payload == [1])
        #expect(willCalls.value == 1)

        try await broker.restart()

        // disconnected(nil) initially, connected, disconnected(error), …, connected again.
        let sequence = try await withTimeout("reconnect", .seconds(10)) {
            var seen: [MQTTConnectionEvent] = []
            for await event in events {
                seen.append(event)
                if seen.filter({ if case .connected = $0 { true } else { false } }).count == 2 { break }
            }
            return seen
        }
        #expect(sequence.contains { if case .disconnected(let error?) = $0 { error.code == .connectionLost } else { false } })
        #expect(willCalls.value >= 2, "the will provider runs before every connect")
        try await poll("publisher reconnected") { publisher.isConnected }
        // The restarted broker has no session: receiving again proves the client re-sent its subscription.
        try await publisher.publish(topic: "\(prefix)/data", payload: [2], qos: .atLeastOnce)
        #expect(try await subscriber.messages.first(1).first?.payload == [2])
        await subscriber.disconnect()
        await publisher.disconnect()
    }

    @Test func refusedCONNACKCarriesTheReasonString() async throws {
        let broker = try await TestBroker(allowAnonymous: false)
        let client = try MQTTClient(configuration: .init(host: "127.0.0.1", port: broker.port, clientID: "anonymous"))
        await #expect {
            try await client.connect()
        } throws: { error in
            guard let error = error as? MQTTError else { return false }
            // MQTT 5 reason code 0x87 Not authorized (mosquitto_reason_string).
            return error.code == .connectionRefused && error.reasonCode == 0x87 && error.message == "Not authorized"
        }
    }

    @Test func startRetriesUntilTheBrokerComesUp() async throws {
        let broker = try await TestBroker()
        broker.stop()
        var config = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: TestEnvironment.uniqueName("late", separator: "-"))
        config.reconnect = .init(minimumDelay: .milliseconds(20), maximumDelay: .milliseconds(100))
        let client = try MQTTClient(configuration: config)
        client.start()
        try await broker.restart()
        try await poll("connected after the broker started") { client.isConnected }
        await client.disconnect()
    }
}
