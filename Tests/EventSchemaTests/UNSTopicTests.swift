import EventSchema
import Testing

@Suite("UNSTopic")
struct UNSTopicTests {
    @Test("parses and formats back", arguments: [
        "uns/v1/acme/plant1/press-area/line-1/press-3/value/temperature",
        "uns/v1/acme/plant1/press-area/line-1/press-3/value/spindle/temperature",
        "uns/v1/acme/plant1/value/energy/total",
        "uns/v1/acme/plant1/press-area/line-1/event/workorder.started",
        "uns/v1/acme/plant1/press-area/line-1/press-3/event/alarm.raised",
        "uns/v1/_svc/stream/history",
        "uns/v1/_svc/rag-index/ask",
        "uns/v1/_svc/stream/status/stream-1",
    ])
    func roundTrip(topic: String) throws {
        let parsed = try UNSTopic.parse(topic)
        #expect(parsed.description == topic)
        #expect(UNSTopic(parsing: topic) == parsed)
    }

    @Test("splits a cell value topic into path and metric with folders")
    func valueParts() throws {
        let topic = try UNSTopic.parse("uns/v1/acme/plant1/press-area/line-1/press-3/value/spindle/temperature")
        #expect(topic.kind == .value(try ISA95Path.parse("acme/plant1/press-area/line-1/press-3"),
                                     metric: "spindle/temperature"))
    }

    @Test("recognises service request and status topics")
    func serviceParts() throws {
        #expect(try UNSTopic.parse("uns/v1/_svc/rag-index/ask").kind == .serviceRequest(service: "rag-index", verb: "ask"))
        #expect(try UNSTopic.parse("uns/v1/_svc/stream/status/stream-2").kind
            == .serviceStatus(service: "stream", instance: "stream-2"))
        #expect(try UNSTopic.parse("uns/v1/_svc/stream/history").path == nil)
    }

    @Test("works under a configured multi-level prefix")
    func customPrefix() throws {
        let path = try ISA95Path.parse("acme/plant1/press-area")
        let topic = try UNSTopic.event(at: path, type: "alarm.raised", prefix: "site-a/uns/v2")
        #expect(topic.description == "site-a/uns/v2/acme/plant1/press-area/event/alarm.raised")
        #expect(UNSTopic(parsing: topic.description, prefix: "site-a/uns/v2") == topic)
        #expect(UNSTopic(parsing: topic.description) == nil)
    }

    @Test("rejects malformed topics", arguments: [
        "uns/v1/acme/plant1",                                    // no kind
        "uns/v1/acme/value/x",                                   // path shorter than enterprise/site
        "uns/v1/acme/plant1/a/l/c/x/event/alarm.raised",         // path deeper than a cell
        "uns/v1/acme/plant1/event/alarm/raised",                 // event type of two levels
        "uns/v1/acme/plant1/event/",                             // empty event type
        "uns/v1/acme/plant1/value/",                             // empty metric
        "uns/v1/acme/plant1/value/a//b",                         // empty metric level
        "uns/v1/acme/plant1/value/temp+",                        // wildcard
        "uns/v1/acme/plant1/value/#",                            // wildcard
        "uns/v1/acme//event/x",                                  // empty site
        "uns/v1/_acme/plant1/event/x",                           // leading underscore
        "uns/v1/_svc/stream",                                    // service without verb
        "uns/v1/_svc/stream/status",                             // status without instance
        "uns/v1/_svc/stream/history/extra",                      // too long
        "uns/v2/acme/plant1/event/alarm.raised",                 // other prefix
        "uns/v1",                                                // prefix only
    ])
    func rejects(topic: String) {
        #expect(UNSTopic(parsing: topic) == nil)
    }

    @Test("refuses invalid names when building")
    func buildRejections() throws {
        let path = try ISA95Path.parse("acme/plant1")
        #expect(throws: EventSchemaError.self) { try UNSTopic.event(at: path, type: "a/b") }
        #expect(throws: EventSchemaError.self) { try UNSTopic.event(at: path, type: "value") }
        #expect(throws: EventSchemaError.self) { try UNSTopic.value(at: path, metric: "event/x") }
        #expect(throws: EventSchemaError.self) { try UNSTopic.value(at: path, metric: "temp", prefix: "uns/+") }
        #expect(throws: EventSchemaError.self) { try UNSTopic.value(at: path, metric: "temp", prefix: "$SYS") }
        #expect(throws: EventSchemaError.self) { try UNSTopic.service("stream", verb: "status") }
    }

    @Test("event filters cover each depth below a line, once")
    func eventFilters() throws {
        let line = try ISA95Path.parse("acme/plant1/press-area/line-1")
        #expect(try UNSTopic.eventFilters(under: line) == [
            "uns/v1/acme/plant1/press-area/line-1/event/+",
            "uns/v1/acme/plant1/press-area/line-1/+/event/+",
        ])
        #expect(try UNSTopic.eventFilters(type: "alarm.raised") == [
            "uns/v1/+/+/event/alarm.raised",
            "uns/v1/+/+/+/event/alarm.raised",
            "uns/v1/+/+/+/+/event/alarm.raised",
            "uns/v1/+/+/+/+/+/event/alarm.raised",
        ])
        #expect(try UNSTopic.statusFilter(of: "stream") == "uns/v1/_svc/stream/status/+")
    }

    @Test("filters match exactly the topics they promise")
    func filterMatching() throws {
        let site = try ISA95Path.parse("acme/plant1")
        let eventFilters = try UNSTopic.eventFilters(under: site)
        let valueFilters = try UNSTopic.valueFilters(under: site)
        let event = "uns/v1/acme/plant1/press-area/line-1/press-3/event/alarm.raised"
        let siteEvent = "uns/v1/acme/plant1/event/production.counted"
        let value = "uns/v1/acme/plant1/press-area/value/spindle/temperature"
        let otherSite = "uns/v1/acme/plant2/press-area/event/alarm.raised"
        #expect(eventFilters.filter { Self.matches($0, event) }.count == 1)
        #expect(eventFilters.filter { Self.matches($0, siteEvent) }.count == 1)
        #expect(!eventFilters.contains { Self.matches($0, value) })
        #expect(!eventFilters.contains { Self.matches($0, otherSite) })
        #expect(valueFilters.filter { Self.matches($0, value) }.count == 1)
        #expect(!valueFilters.contains { Self.matches($0, event) })
    }

    /// MQTT 5 §4.7 topic filter matching, enough for `+` and a trailing `#`.
    static func matches(_ filter: String, _ topic: String) -> Bool {
        let filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        let topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in filterLevels.enumerated() {
            if level == "#" { return true }
            guard index < topicLevels.count, level == "+" || level == topicLevels[index] else { return false }
        }
        return filterLevels.count == topicLevels.count
    }
}
