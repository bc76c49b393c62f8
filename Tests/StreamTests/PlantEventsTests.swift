import EventSchema
import Foundation
import StreamCore
import Testing

@Suite("UNS values and plant events")
struct PlantEventsTests {
    static let node = EdgeNodeID(group: "g", edgeNode: "e")
    static let temperature = SeriesKey(node: node, device: "press", metric: "temperature")
    static let state = SeriesKey(node: node, device: "press", metric: "state")

    func events() -> PlantEvents {
        var events = PlantEvents(source: "/shopfloor/stream/test")
        events.define([
            SeriesInfo(key: Self.temperature, datatype: .double, unit: "°C", assetPath: "acme/p1/a/l/press",
                       alarm: AlarmLimits(high: 80, low: 10, hysteresis: 2)),
            SeriesInfo(key: Self.state, datatype: .string, assetPath: "acme/p1/a/l/press"),
        ])
        return events
    }

    func types(_ messages: [UNSMessage]) -> [String] {
        messages.compactMap { $0.topic.split(separator: "/event/").dropFirst().first.map(String.init) }
    }

    @Test("only the newest value per series is republished, retained, as JSON")
    func latestValue() throws {
        var events = events()
        let out = events.messages(for: [Sample(series: Self.temperature, timestamp: 2_000, value: .number(21.5)),
                                        Sample(series: Self.temperature, timestamp: 1_000, value: .number(20))])
        #expect(out.count == 1)
        #expect(out.first?.topic == "uns/v1/acme/p1/a/l/press/value/temperature")
        #expect(out.first?.retain == true)
        #expect(String(decoding: try #require(out.first).payload, as: UTF8.self)
            == #"{"quality":"good","ts":"1970-01-01T00:00:02.000Z","unit":"°C","value":21.5}"#)
        // A late (redelivered) older sample does not replace the retained newer value.
        #expect(events.messages(for: [Sample(series: Self.temperature, timestamp: 1_500, value: .number(3))]).isEmpty)
    }

    @Test("high and low alarms with hysteresis: raised once, cleared only inside the deadband")
    func alarms() throws {
        var events = events()
        let values: [Double] = [50, 81, 85, 79, 77, 50, 9, 11, 12.5]
        var raised: [AlarmRaised] = []
        var cleared: [AlarmCleared] = []
        for (index, value) in values.enumerated() {
            for message in events.messages(for: [Sample(series: Self.temperature, timestamp: UInt64(index), value: .number(value))]) {
                if message.topic.hasSuffix("event/alarm.raised") {
                    raised.append(try CloudEvent<AlarmRaised>.decode(from: Data(message.payload)).data)
                } else if message.topic.hasSuffix("event/alarm.cleared") {
                    cleared.append(try CloudEvent<AlarmCleared>.decode(from: Data(message.payload)).data)
                }
            }
        }
        #expect(raised.map(\.value) == [81, 9])
        #expect(raised.map(\.threshold) == [80, 10])
        #expect(cleared.map(\.value) == [77, 12.5])
        #expect(cleared.map(\.alarmId) == raised.map(\.alarmId))
    }

    @Test("a configured rule wins over the BIRTH's limits, an asset-specific rule over a general one")
    func configuredRules() throws {
        var events = PlantEvents(source: "/shopfloor/stream/test", alarmRules: [
            AlarmRule(metric: "temperature", high: 50),
            AlarmRule(asset: "acme/p1/a/l/press", metric: "temperature", high: 60, severity: "critical"),
        ])
        events.define([SeriesInfo(key: Self.temperature, datatype: .double, assetPath: "acme/p1/a/l/press",
                                  alarm: AlarmLimits(high: 80))])
        let out = events.messages(for: [Sample(series: Self.temperature, timestamp: 1, value: .number(65))])
        let raised = try #require(out.first { $0.topic.hasSuffix("event/alarm.raised") })
        let alarm = try CloudEvent<AlarmRaised>.decode(from: Data(raised.payload)).data
        #expect(alarm.threshold == 60)
        #expect(alarm.severity == .critical)
    }

    @Test("state changes become EquipmentStateChanged; repeats and unknown words do not")
    func stateChanges() throws {
        var events = events()
        let words = ["idle", "idle", "RUNNING", "exploded", "down"]
        var changes: [EquipmentStateChanged] = []
        for (index, word) in words.enumerated() {
            for message in events.messages(for: [Sample(series: Self.state, timestamp: UInt64(index), value: .text(word))])
            where message.topic.hasSuffix("event/equipment.state_changed") {
                changes.append(try CloudEvent<EquipmentStateChanged>.decode(from: Data(message.payload)).data)
            }
        }
        #expect(changes.map(\.to) == [.idle, .running, .down])
        #expect(changes.map(\.from) == [nil, .idle, .running])
    }

    @Test("a numeric state register (gateway's uint16 state tag) maps through the register map's state codes")
    func numericStateCodes() throws {
        var events = events()
        let codes: [SampleValue] = [.number(1), .number(1), .number(5), .number(99), .number(2.5), .number(0), .null]
        var changes: [EquipmentStateChanged] = []
        for (index, code) in codes.enumerated() {
            for message in events.messages(for: [Sample(series: Self.state, timestamp: UInt64(index), value: code)])
            where message.topic.hasSuffix("event/equipment.state_changed") {
                changes.append(try CloudEvent<EquipmentStateChanged>.decode(from: Data(message.payload)).data)
            }
        }
        #expect(changes.map(\.to) == [.running, .down, .idle])
    }

    @Test("cumulative good/scrap counters become ProductionCounted per minute window, across a counter reset")
    func productionCounts() throws {
        var events = PlantEvents(source: "/shopfloor/stream/test")
        let good = SeriesKey(node: Self.node, device: "press", metric: "count/good")
        let scrap = SeriesKey(node: Self.node, device: "press", metric: "count/scrap")
        events.define([SeriesInfo(key: good, datatype: .uint32, assetPath: "acme/p1/a/l/press"),
                       SeriesInfo(key: scrap, datatype: .uint32, assetPath: "acme/p1/a/l/press")])
        let readings: [(SeriesKey, UInt64, Double)] = [
            (good, 0, 100), (scrap, 0, 5), (good, 30_000, 110), (scrap, 40_000, 6), (good, 59_999, 112),
            (good, 60_000, 115), (good, 90_000, 2), (good, 120_000, 4),
        ]
        var counted: [ProductionCounted] = []
        for (key, timestamp, value) in readings {
            for message in events.messages(for: [Sample(series: key, timestamp: timestamp, value: .number(value))])
            where message.topic.hasSuffix("event/production.counted") {
                counted.append(try CloudEvent<ProductionCounted>.decode(from: Data(message.payload)).data)
            }
        }
        #expect(counted.map(\.good) == [12, 5])
        #expect(counted.map(\.scrap) == [1, 0])
        #expect(counted.map(\.total) == [13, 5])
        #expect(counted.first?.windowStart == Date(timeIntervalSince1970: 0))
        #expect(counted.first?.windowEnd == Date(timeIntervalSince1970: 60))
    }

    @Test("a vibration trend well above its baseline raises MaintenanceRequired once")
    func vibrationHealth() throws {
        var events = PlantEvents(source: "/shopfloor/stream/test")
        let vibration = SeriesKey(node: Self.node, device: "press", metric: "spindle/vibration")
        events.define([SeriesInfo(key: vibration, datatype: .double, unit: "mm/s", assetPath: "acme/p1/a/l/press")])
        var requests: [MaintenanceRequired] = []
        // Steady at 2 mm/s, then wearing up to 4 mm/s and staying there.
        let values = Array(repeating: 2.0, count: 40) + (0..<60).map { 2 + 2 * Double($0) / 60 } + Array(repeating: 4.0, count: 40)
        for (index, value) in values.enumerated() {
            for message in events.messages(for: [Sample(series: vibration, timestamp: UInt64(index), value: .number(value))])
            where message.topic.hasSuffix("event/maintenance.required") {
                requests.append(try CloudEvent<MaintenanceRequired>.decode(from: Data(message.payload)).data)
            }
        }
        #expect(requests.count == 1)
        #expect((requests.first?.healthScore ?? 100) < 60)
        #expect(requests.first?.reason.contains("vibration") == true)
    }

    @Test("stale series are republished with quality stale")
    func stale() {
        var events = events()
        _ = events.messages(for: [Sample(series: Self.temperature, timestamp: 5, value: .number(30))])
        let out = events.staleMessages(for: [Self.temperature], at: 9)
        #expect(out.count == 1)
        #expect(String(decoding: out[0].payload, as: UTF8.self).contains(#""quality":"stale""#))
        #expect(String(decoding: out[0].payload, as: UTF8.self).contains(#""value":30"#))
    }
}

@Suite("History requests")
struct HistoryQueryTests {
    @Test("a full request parses")
    func parses() throws {
        let query = try HistoryQuery(json: Array(#"""
            {"asset":"acme/p1/a/l/press","metric":"spindle/temperature","from":"1970-01-01T00:00:01Z","to":5000,
             "bucket":"1m","aggregate":"avg","limit":10,"after":1500}
            """#.utf8))
        #expect(query.from == 1_000)
        #expect(query.to == 5_000)
        #expect(query.bucket == 60_000)
        #expect(query.aggregates == [.avg])
        #expect(query.limit == 10)
        #expect(query.after == 1_500)
    }

    @Test("malformed requests get a precise error", arguments: [
        ("[1]", "not a JSON object"),
        (#"{"asset":"acme/p1","metric":"t","from":0}"#, "\"to\" is missing"),
        (#"{"asset":"acme/p1","metric":"t","from":5,"to":1}"#, "is after \"to\""),
        (#"{"asset":"acme/p1","metric":"t","from":"yesterday","to":1}"#, "\"yesterday\" is not an RFC 3339 time"),
        (#"{"asset":"acme/p1","metric":"t","from":0,"to":1,"bucket":"5 minutes"}"#, "\"bucket\" \"5 minutes\""),
        (#"{"asset":"acme/p1","metric":"t","from":0,"to":1,"bucket":"1m","aggregate":"median"}"#, "min, max, avg, count, last"),
        (#"{"asset":"acme/p1","metric":"t","from":0,"to":1,"aggregate":"avg"}"#, "\"aggregate\" needs \"bucket\""),
        (#"{"asset":"acme/p1","metric":"t","from":0,"to":1,"limit":0}"#, "\"limit\" must be an integer in 1…10000"),
        (#"{"asset":"acme/p1","metric":"t","from":0,"to":1,"limit":true}"#, "\"limit\""),
        (#"{"asset":"acme/p1","metric":"t","from":0,"to":1,"series":"x"}"#, "unknown field \"series\""),
    ])
    func malformed(json: String, fragment: String) {
        #expect {
            _ = try HistoryQuery(json: Array(json.utf8))
        } throws: { error in
            "\(error)".contains(fragment)
        }
    }
}
