import Foundation
import MQTT
import Synchronization
import Testing
import TestSupport

/// A client for the broker in MQTT_HOST/MQTT_PORT with a unique client id.
func makeClient(_ name: String, port: Int? = nil, _ configure: (inout MQTTConfiguration) -> Void = { _ in }) throws -> MQTTClient {
    let broker = try TestEnvironment.mqttBroker()
    var config = MQTTConfiguration(host: broker.host, port: port ?? broker.port,
                                   clientID: TestEnvironment.uniqueName(name, separator: "-"))
    configure(&config)
    return try MQTTClient(configuration: config)
}

@Suite("MQTT client against a real broker")
struct MQTTClientTests {
    @Test func publishSubscribeQoS0AndQoS1WithProperties() async throws {
        let prefix = TestEnvironment.uniqueName()
        let subscriber = try makeClient("sub")
        let publisher = try makeClient("pub")
        try await subscriber.connect()
        try await publisher.connect()
        #expect(try await subscriber.subscribe(to: "\(prefix)/#", qos: .atLeastOnce) == .atLeastOnce)

        try await publisher.publish(topic: "\(prefix)/zero", payload: [0, 1, 2], qos: .atMostOnce)
        let outgoing = MQTTMessage(topic: "\(prefix)/one", payload: Array("hello".utf8), qos: .atLeastOnce,
                                   userProperties: [.init("line", "L1"), .init("line", "L2"), .init("unit", "°C")],
                                   responseTopic: "\(prefix)/reply", correlationData: [9, 8, 7],
                                   contentType: "text/plain")
        try await publisher.publish(outgoing)

        let received = try await subscriber.messages.first(2)
        #expect(received[0].topic == "\(prefix)/zero")
        #expect(received[0].payload == [0, 1, 2])
        #expect(received[0].qos == .atMostOnce)
        #expect(received[1] == outgoing)
        await publisher.disconnect()
        await subscriber.disconnect()
    }

    @Test func leavingALoopKeepsTheRemainingMessages() async throws {
        let topic = TestEnvironment.uniqueName() + "/n"
        let client = try makeClient("loop")
        try await client.connect()
        try await client.subscribe(to: topic)
        for number in UInt8(0)..<5 { try await client.publish(topic: topic, payload: [number], qos: .atLeastOnce) }
        #expect(try await client.messages.first(2).map(\.payload) == [[0], [1]])
        #expect(try await client.messages.first(3).map(\.payload) == [[2], [3], [4]])
        await client.disconnect()
    }

    @Test func retainedMessageReachesLateSubscriber() async throws {
        let topic = TestEnvironment.uniqueName() + "/status"
        let publisher = try makeClient("pub")
        try await publisher.connect()
        try await publisher.publish(topic: topic, payload: Array("online".utf8), qos: .atLeastOnce, retain: true)
        let late = try makeClient("late")
        try await late.connect()
        try await late.subscribe(to: topic)
        let message = try #require(try await late.messages.first(1).first)
        #expect(message.retain)
        #expect(message.payload == Array("online".utf8))
        // Clear the retained message so the broker does not keep test data.
        try await publisher.publish(topic: topic, payload: [], qos: .atLeastOnce, retain: true)
        await publisher.disconnect()
        await late.disconnect()
    }

    @Test func willIsPublishedOnDisconnectWithWill() async throws {
        let topic = TestEnvironment.uniqueName() + "/status"
        let watcher = try makeClient("watcher")
        try await watcher.connect()
        try await watcher.subscribe(to: topic)
        let dying = try makeClient("dying") {
            $0.will = MQTTWill(topic: topic, payload: Array("offline".utf8), userProperties: [.init("why", "test")])
        }
        try await dying.connect()
        await dying.disconnect(sendWill: true)
        let will = try #require(try await watcher.messages.first(1).first)
        #expect(will.payload == Array("offline".utf8))
        #expect(will.userProperty("why") == "test")
        await watcher.disconnect()
    }

    @Test func normalDisconnectSendsNoWill() async throws {
        let topic = TestEnvironment.uniqueName() + "/status"
        let watcher = try makeClient("watcher")
        try await watcher.connect()
        try await watcher.subscribe(to: topic)
        let leaving = try makeClient("leaving") { $0.will = MQTTWill(topic: topic, payload: Array("offline".utf8)) }
        try await leaving.connect()
        await leaving.disconnect()
        // A marker published afterwards must be the first thing the watcher sees.
        try await watcher.publish(topic: topic, payload: Array("marker".utf8), qos: .atLeastOnce)
        #expect(try await watcher.messages.first(1).first?.payload == Array("marker".utf8))
        await watcher.disconnect()
    }

    @Test("a QoS 1 publish after disconnect() fails at once; before, it waited forever for a PUBACK")
    func publishAfterDisconnectFails() async throws {
        let client = try makeClient("stopped")
        try await client.connect()
        await client.disconnect()
        let outcome = try await withTimeout("the publish after disconnect", .seconds(5)) {
            do {
                try await client.publish(topic: TestEnvironment.uniqueName() + "/late", payload: [1], qos: .atLeastOnce)
                return "published"
            } catch let error as MQTTError {
                return error.code == .notConnected ? "notConnected" : "\(error)"
            }
        }
        #expect(outcome == "notConnected")
        // The same client works again after start().
        try await client.connect()
        try await client.publish(topic: TestEnvironment.uniqueName() + "/again", payload: [2], qos: .atLeastOnce)
        await client.disconnect()
    }

    @Test func sharedSubscriptionSplitsMessages() async throws {
        let prefix = TestEnvironment.uniqueName()
        let group = "g" + UUID().uuidString.prefix(8)
        let first = try makeClient("share-a")
        let second = try makeClient("share-b")
        let publisher = try makeClient("pub")
        for client in [first, second, publisher] { try await client.connect() }
        try await first.subscribe(to: "$share/\(group)/\(prefix)/#", qos: .atLeastOnce)
        try await second.subscribe(to: "$share/\(group)/\(prefix)/#", qos: .atLeastOnce)
        let count = 200
        let seen = LockedValue<[String: [Int]]>([:])
        let collectors = [("a", first), ("b", second)].map { name, client in
            Task {
                for await message in client.messages {
                    let number = Int(String(decoding: message.payload, as: UTF8.self)) ?? -1
                    seen.withLock { $0[name, default: []].append(number) }
                }
            }
        }
        for number in 0..<count {
            try await publisher.publish(topic: "\(prefix)/n", payload: Array(String(number).utf8), qos: .atLeastOnce)
        }
        try await poll("all \(count) shared messages") { seen.withLock { $0.values.map(\.count).reduce(0, +) >= count } }
        let result = seen.withLock { $0 }
        let all = (result["a"] ?? []) + (result["b"] ?? [])
        #expect((result["a"] ?? []).count > 0, "each member gets some")
        #expect((result["b"] ?? []).count > 0, "each member gets some")
        #expect(all.sorted() == Array(0..<count), "together all, none twice")
        collectors.forEach { $0.cancel() }
        for client in [first, second, publisher] { await client.disconnect() }
    }

    @Test func connectionEventsReportConnectAndDisconnect() async throws {
        let client = try makeClient("events")
        let events = client.connectionEvents()
        try await client.connect()
        #expect(client.isConnected)
        await client.disconnect()
        #expect(!client.isConnected)
        let seen = try await events.first(3)
        #expect(seen == [.disconnected(nil), .connected(sessionPresent: false), .disconnected(nil)])
    }

    @Test func refusedConnectionCarriesLibmosquittoReason() async throws {
        // Nothing listens on port 1 of the broker host.
        let client = try makeClient("refused", port: 1)
        await #expect {
            try await client.connect()
        } throws: { error in
            guard let error = error as? MQTTError else { return false }
            return error.code == .connectFailed && error.mosquittoCode != nil
                && error.description.localizedCaseInsensitiveContains("connection refused")
        }
    }

    @Test func unknownHostCarriesLibmosquittoReason() async throws {
        let client = try MQTTClient(configuration: .init(host: "no-such-host.invalid", clientID: "bad-host"))
        await #expect {
            try await client.connect()
        } throws: { error in
            guard let error = error as? MQTTError else { return false }
            return error.code == .connectFailed && error.mosquittoCode != nil && error.description.contains("no-such-host.invalid")
        }
    }

    @Test func invalidFilterAndTopicAreRejected() async throws {
        let client = try makeClient("invalid")
        try await client.connect()
        await #expect(throws: MQTTError.self) { try await client.subscribe(to: "a/#/b") }
        await #expect(throws: MQTTError.self) { try await client.publish(topic: "a/+/b", payload: [], qos: .atLeastOnce) }
        await client.disconnect()
    }

    @Test func unsubscribeStopsDelivery() async throws {
        let prefix = TestEnvironment.uniqueName()
        let client = try makeClient("unsub")
        try await client.connect()
        try await client.subscribe(to: "\(prefix)/a")
        try await client.subscribe(to: "\(prefix)/b")
        try await client.unsubscribe(from: "\(prefix)/a")
        try await client.publish(topic: "\(prefix)/a", payload: [1], qos: .atLeastOnce)
        try await client.publish(topic: "\(prefix)/b", payload: [2], qos: .atLeastOnce)
        #expect(try await client.messages.first(1).first?.topic == "\(prefix)/b")
        await client.disconnect()
    }
}
