import EventSchema
import Foundation
import Testing

/// Checks every registered event type against its own schema, so the hand-written schemas cannot drift
/// from what `Codable` writes.
@Suite("Event types")
struct EventTypeTests {
    static let types = EventRegistry.all.map(EventTypeCase.init)

    @Test("type names are versioned, unique and give valid topics")
    func names() throws {
        #expect(Set(EventRegistry.all.map { $0.eventType }).count == EventRegistry.all.count)
        let names = EventRegistry.all.map { $0.eventType }
        let malformed = names.filter { name in
            let parts = name.split(separator: ".")
            return parts.count != 5 || parts[0] != "io" || parts[1] != "shopfloor"
                || !parts[4].hasPrefix("v") || Int(parts[4].dropFirst()) == nil
        }
        #expect(malformed == [])
    }

    @Test("an example encodes to exactly what its envelope schema declares", arguments: types)
    func exampleMatchesSchema(type: EventTypeCase) throws {
        #expect(try Self.schemaViolations(type.type) == [])
    }

    @Test("the example sets every declared data member", arguments: types)
    func exampleIsComplete(type: EventTypeCase) throws {
        #expect(try Self.undeclaredExampleMembers(type.type) == [])
    }

    @Test("required in the schema exactly when decoding fails without it", arguments: types)
    func requiredMatchesDecoding(type: EventTypeCase) throws {
        #expect(try Self.requiredMismatches(type.type) == [])
    }

    @Test("an example survives a CloudEvent round trip and its topic parses back", arguments: types)
    func roundTrip(type: EventTypeCase) throws {
        #expect(try Self.roundTripProblems(type.type) == [])
    }

    static func schemaViolations<E: ShopfloorEvent>(_: E.Type) throws -> [String] {
        let event = E.example.cloudEvent(source: "/shopfloor/test", id: "evt-1")
        let json = try JSONValue(encoding: event)
        return E.envelopeSchema.violations(of: json, rejectUnknownMembers: true)
    }

    static func undeclaredExampleMembers<E: ShopfloorEvent>(_: E.Type) throws -> [String] {
        guard case .object(let members) = try JSONValue(encoding: E.example) else { return ["not an object"] }
        return E.schema.properties.map(\.name).filter { members[$0] == nil }
    }

    static func requiredMismatches<E: ShopfloorEvent>(_: E.Type) throws -> [String] {
        guard case .object(let members) = try JSONValue(encoding: E.example) else { return ["not an object"] }
        var problems: [String] = []
        for property in E.schema.properties {
            var trimmed = members
            trimmed[property.name] = nil
            let bytes = try JSONEncoder().encode(JSONValue.object(trimmed))
            let decodes = (try? EventJSON.makeDecoder().decode(E.self, from: bytes)) != nil
            if decodes == property.isRequired {
                problems.append("\(property.name): schema says required=\(property.isRequired), decoding disagrees")
            }
        }
        return problems
    }

    static func roundTripProblems<E: ShopfloorEvent>(_: E.Type) throws -> [String] {
        let event = E.example.cloudEvent(source: "/shopfloor/test", id: "evt-1",
                                         time: Date(timeIntervalSince1970: 1_795_335_330.25))
        let decoded = try CloudEvent<E>.decode(from: try event.jsonData())
        let topic = try E.example.topic()
        var problems: [String] = []
        if decoded != event { problems.append("round trip changed the event") }
        if UNSTopic(parsing: topic.description) != topic { problems.append("topic \(topic) does not parse back") }
        if topic.kind != .event(E.example.asset, type: E.shortType) {
            problems.append("topic \(topic) is not <asset>/event/<short type>")
        }
        return problems
    }

    @Test("topic names the short type without prefix or version")
    func shortType() throws {
        #expect(EquipmentStateChanged.shortType == "equipment.state_changed")
        #expect(try AlarmRaised.example.topic().description
            == "uns/v1/acme/plant1/press-area/line-1/press-3/event/alarm.raised")
        #expect(try WorkOrderStarted.example.topic(prefix: "plant/uns").description
            == "plant/uns/acme/plant1/press-area/line-1/event/workorder.started")
    }

    @Test("the validator catches wrong types, missing members, enum values and bounds")
    func validatorCatches() throws {
        let schema = MaintenanceRequired.schema
        let json = try JSONValue(parsing: Data(#"{"asset":"acme/p1","healthScore":120,"reason":7,"due":"soon"}"#.utf8))
        let problems = schema.violations(of: json)
        #expect(problems.contains { $0.hasPrefix("healthScore:") && $0.contains("maximum") })
        #expect(problems.contains { $0.hasPrefix("reason:") && $0.contains("expected string") })
        #expect(problems.contains { $0.hasPrefix("recommendedAction:") && $0.contains("missing") })
        #expect(problems.contains { $0.hasPrefix("due:") && $0.contains("RFC 3339") })
        let state = try JSONValue(parsing: Data(#"{"asset":"acme/p1","to":"exploded","since":"2026-11-22T08:15:30Z"}"#.utf8))
        #expect(EquipmentStateChanged.schema.violations(of: state) == [
            "to: \"exploded\" is not one of running, idle, starved, blocked, setup, down, maintenance, offline",
        ])
    }
}

/// One registered event type as a test argument, named by its type in test output.
struct EventTypeCase: CustomTestStringConvertible, Sendable {
    let type: any ShopfloorEvent.Type
    var testDescription: String { type.eventType }
}
