import EventSchema
import Foundation
import MQTT
import Sparkplug
import StreamCore
import Testing
import TestSupport

/// The host against a real mosquitto and SQLite. Serialized: the primary subscribes to all of `spBv1.0/#`.
@Suite("Stream host (mosquitto + SQLite)", .serialized)
struct StreamIntegrationTests {
    static let asset = "acme/plant1/press-area/line-1/press-3"

    static func nbirth(bdSeq: Int64 = 0) -> Payload {
        Payload(timestamp: 1_000, metrics: [
            Metric(name: "bdSeq", datatype: .int64, value: .int64(bdSeq)),
            Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(false)),
            Metric(name: "Uptime", alias: 1, datatype: .int64, value: .int64(1)),
        ], seq: 0)
    }

    static func dbirth(seq: UInt64) -> Payload {
        var temperature = Metric(name: "temperature", alias: 10, timestamp: 1_000, datatype: .double, value: .double(20))
        var properties = PropertySet()
        properties.engineeringUnit = "°C"
        properties["alarmHigh"] = PropertyValue(.double(80))
        properties["alarmHysteresis"] = PropertyValue(.double(5))
        temperature.properties = properties
        return Payload(timestamp: 1_000, metrics: [
            temperature,
            Metric(name: "state", alias: 11, timestamp: 1_000, datatype: .string, value: .string("idle")),
            Metric(name: "Properties/asset", datatype: .string, value: .string(asset)),
        ], seq: seq)
    }

    static func ddata(seq: UInt64, timestamp: UInt64, temperature: Double) -> Payload {
        Payload(timestamp: timestamp, metrics: [Metric(alias: 10, value: .untyped(.double(temperature)))], seq: seq)
    }

    @Test("stores every sample exactly once, republishes values and events on the UNS, answers history")
    func endToEnd() async throws {
        let harness = try await StreamHarness()
        try await harness.run { harness in
            let observer = try await harness.client("observer")
            let (seen, collector) = collect(observer)
            defer { collector.cancel() }
            try await observer.subscribe(to: harness.stateTopic)
            try await observer.subscribe(to: "\(harness.prefix)/#")
            try await harness.waitUntilOnline(observer, messages: seen)

            let edge = try await harness.client("edge")
            try await harness.publish(edge, .nbirth, Self.nbirth())
            try await harness.publish(edge, .dbirth, device: "press", Self.dbirth(seq: 1))
            let temperatures: [Double] = [21, 22, 85, 90, 78, 74, 23, 24, 25, 26]
            for (index, value) in temperatures.enumerated() {
                try await harness.publish(edge, .ddata, device: "press",
                                          Self.ddata(seq: UInt64(index + 2), timestamp: UInt64(2_000 + index), temperature: value))
            }
            // A redelivered message (same seq, same timestamps) must not add a sample.
            try await harness.publish(edge, .ddata, device: "press", Self.ddata(seq: 3, timestamp: 2_001, temperature: 22))
            try await harness.publish(edge, .ddata, device: "press", Payload(timestamp: 3_000, metrics: [
                Metric(alias: 11, value: .untyped(.string("running"))),
            ], seq: 12))

            // 1 node metric + 2 device metrics in the births, 10 temperatures, 1 state change.
            try await poll("14 samples stored") { try await harness.counts().samples == 14 }
            let valueTopic = "\(harness.prefix)/\(Self.asset)/value/temperature"
            try await poll("retained UNS value 26 °C") {
                seen.value.contains { $0.topic == valueTopic && String(decoding: $0.payload, as: UTF8.self).contains("\"value\":26") }
            }
            let value = try #require(seen.value.last { $0.topic == valueTopic })
            #expect(String(decoding: value.payload, as: UTF8.self)
                == #"{"quality":"good","ts":"1970-01-01T00:00:02.009Z","unit":"°C","value":26}"#)

            // Alarm above 80 raised once at 85, cleared only at 74 (below 80 - 5 hysteresis), not at 78.
            let raisedTopic = "\(harness.prefix)/\(Self.asset)/event/alarm.raised"
            let clearedTopic = "\(harness.prefix)/\(Self.asset)/event/alarm.cleared"
            let stateTopic = "\(harness.prefix)/\(Self.asset)/event/equipment.state_changed"
            try await poll("alarm cleared and state changed") {
                seen.value.contains { $0.topic == clearedTopic } && seen.value.filter { $0.topic == stateTopic }.count == 2
            }
            let raised = seen.value.filter { $0.topic == raisedTopic }
            #expect(raised.count == 1)
            let alarm = try CloudEvent<AlarmRaised>.decode(from: Data(try #require(raised.first).payload))
            #expect(alarm.data.value == 85)
            #expect(alarm.data.threshold == 80)
            let cleared = try CloudEvent<AlarmCleared>.decode(from: Data(try #require(seen.value.first { $0.topic == clearedTopic }).payload))
            #expect(cleared.data.value == 74)
            let states = try seen.value.filter { $0.topic == stateTopic }
                .map { try CloudEvent<EquipmentStateChanged>.decode(from: Data($0.payload)).data }
            #expect(states.map(\.to) == [.idle, .running])
            #expect(states.last?.from == .idle)

            // History: raw with paging, bucketed, and a precise error.
            let requester = try await MQTTRequester(client: observer, responseTopic: "\(harness.prefix)/reply")
            let historyTopic = "\(harness.prefix)/_svc/stream/history"
            let request = #"{"asset":"\#(Self.asset)","metric":"temperature","from":0,"to":2004,"limit":3}"#
            let first = try await requester.request(topic: historyTopic, payload: Array(request.utf8))
            let page = try JSONDecoder().decode(RawPage.self, from: Data(first.payload))
            #expect(page.samples.map(\.value) == [20, 21, 22])
            #expect(page.next == 2_001)
            let second = try await requester.request(topic: historyTopic, payload: Array(
                #"{"asset":"\#(Self.asset)","metric":"temperature","from":0,"to":2004,"limit":3,"after":2001}"#.utf8))
            #expect(try JSONDecoder().decode(RawPage.self, from: Data(second.payload)).samples.map(\.value) == [85, 90, 78])
            let bucketed = try await requester.request(topic: historyTopic, payload: Array(
                #"{"asset":"\#(Self.asset)","metric":"temperature","from":2000,"to":2009,"bucket":5,"aggregate":["min","max","count","last"]}"#.utf8))
            let buckets = try JSONDecoder().decode(BucketPage.self, from: Data(bucketed.payload)).buckets
            #expect(buckets.map(\.min) == [21, 23])
            #expect(buckets.map(\.max) == [90, 74])
            #expect(buckets.map(\.count) == [5, 5])
            #expect(buckets.map(\.last) == [78, 26])
            await #expect {
                _ = try await requester.request(topic: historyTopic, payload: Array(#"{"asset":"acme","metric":"t","from":0,"to":1}"#.utf8))
            } throws: { error in
                "\(error)".contains("\"asset\" must be an ISA-95 path")
            }
            #expect(harness.host.metrics.snapshot.samplesStored == 14)
        }
    }

    @Test("a seq gap gets a rebirth NCMD after the reorder window; garbage becomes a dead letter, the host keeps going")
    func seqGapAndGarbage() async throws {
        let harness = try await StreamHarness(reorderTimeoutMS: 200)
        try await harness.run { harness in
            let observer = try await harness.client("observer")
            let (seen, collector) = collect(observer)
            defer { collector.cancel() }
            try await observer.subscribe(to: harness.stateTopic)
            let ncmd = harness.topic(.ncmd)
            try await observer.subscribe(to: ncmd)
            try await harness.waitUntilOnline(observer, messages: seen)

            let edge = try await harness.client("edge")
            try await harness.publish(edge, .nbirth, Self.nbirth())
            try await harness.publish(edge, .dbirth, device: "press", Self.dbirth(seq: 1))
            try await harness.publish(edge, .ddata, device: "press", Self.ddata(seq: 2, timestamp: 2_000, temperature: 1))
            try await poll("births and first DDATA stored") { try await harness.counts().samples == 4 }
            #expect(!seen.value.contains { $0.topic == ncmd })

            try await harness.publish(edge, .ddata, device: "press", Self.ddata(seq: 5, timestamp: 2_001, temperature: 2))
            try await poll("rebirth NCMD") { seen.value.contains { $0.topic == ncmd } }
            let request = try Payload(decoding: try #require(seen.value.first { $0.topic == ncmd }).payload)
            #expect(request.metrics.first?.name == "Node Control/Rebirth")
            #expect(request.metrics.first?.value == .boolean(true))
            #expect(request.seq == nil)
            #expect(harness.host.metrics.snapshot.sequenceGaps == 1)

            try await edge.publish(topic: harness.topic(.ddata, device: "press"), payload: [0xff, 0x00, 0x13, 0x37],
                                   qos: .atLeastOnce)
            try await poll("dead letter") { try await harness.counts().deadLetters == 1 }
            let letter = try #require(try await harness.store.deadLetters(limit: 1).first)
            #expect(letter.reason.contains("undecodable"))
            #expect(letter.payload == [0xff, 0x00, 0x13, 0x37])
            // A topic under the namespace that is not Sparkplug reaches only the primary's seq subscription.
            try await edge.publish(topic: "spBv1.0/\(harness.group)/BOGUS/edge", payload: [1, 2], qos: .atLeastOnce)
            try await poll("dead letter for a non-Sparkplug topic") { try await harness.counts().deadLetters == 2 }
            #expect(try await harness.store.deadLetters(limit: 1).first?.reason == "not a Sparkplug B 3.0 topic")

            try await harness.publish(edge, .ddata, device: "press", Self.ddata(seq: 6, timestamp: 2_002, temperature: 3))
            try await poll("a sample after the garbage") { try await harness.counts().samples == 6 }
        }
    }

    @Test("STATE: retained birth with the will's timestamp, self-heal, offline on graceful stop")
    func hostState() async throws {
        let harness = try await StreamHarness()
        let observer = try await harness.client("observer")
        let (seen, collector) = collect(observer)
        defer { collector.cancel() }
        try await observer.subscribe(to: harness.stateTopic)
        let birth = try await harness.run { harness in
            try await harness.waitUntilOnline(observer, messages: seen)
            let birth = try #require(seen.value.compactMap { try? HostState(decoding: $0.payload) }.last)
            // Someone (a stale will, an operator) marks us offline: the host answers with its birth again.
            try await observer.publish(topic: harness.stateTopic,
                                       payload: HostState(online: false, timestamp: birth.timestamp).encode(),
                                       qos: .atLeastOnce, retain: true)
            try await poll("STATE healed") {
                seen.value.compactMap { try? HostState(decoding: $0.payload) }.filter(\.online).count >= 2
            }
            #expect(seen.value.compactMap { try? HostState(decoding: $0.payload) }.last == birth)
            return birth
        }
        try await poll("STATE offline after stop") {
            seen.value.compactMap { try? HostState(decoding: $0.payload) }.last?.online == false
        }
        // Retained: a new subscriber sees offline too.
        let late = try await harness.client("late")
        let (lateSeen, lateCollector) = collect(late)
        defer { lateCollector.cancel() }
        try await late.subscribe(to: harness.stateTopic)
        try await poll("retained STATE") { !lateSeen.value.isEmpty }
        let retained = try HostState(decoding: try #require(lateSeen.value.first).payload)
        #expect(!retained.online)
        #expect(retained.timestamp >= birth.timestamp)
    }
}

struct RawPage: Decodable {
    struct Point: Decodable {
        var t: UInt64
        var value: Double
    }
    var samples: [Point]
    var next: UInt64?
}

struct BucketPage: Decodable {
    struct Bucket: Decodable {
        var min: Double?
        var max: Double?
        var count: Int?
        var last: Double?
    }
    var buckets: [Bucket]
}
