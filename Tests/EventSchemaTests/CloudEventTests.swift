import EventSchema
import Foundation
import Testing

@Suite("CloudEvent")
struct CloudEventTests {
    static let time = Date(timeIntervalSince1970: 1_795_335_330.25)
    static let event = AlarmRaised.example.cloudEvent(source: "/shopfloor/stream/stream-1", id: "evt-1",
                                                      time: time, correlationID: "corr-1")
    static let golden = #"{"correlationid":"corr-1","data":{"alarmId":"press-3/spindle/temperature/high","#
        + #""asset":"acme/plant1/press-area/line-1/press-3","message":"Spindle temperature 87.4 °C above 85 °C","#
        + #""metric":"spindle/temperature","severity":"high","threshold":85,"value":87.4},"#
        + #""datacontenttype":"application/json","id":"evt-1","source":"/shopfloor/stream/stream-1","#
        + #""specversion":"1.0","subject":"acme/plant1/press-area/line-1/press-3","#
        + #""time":"2026-11-22T08:15:30.250Z","type":"io.shopfloor.alarm.raised.v1"}"#

    /// The golden envelope with `edit` applied to its top-level members.
    static func golden(_ edit: (inout [String: JSONValue]) -> Void) throws -> Data {
        guard case .object(var members) = try JSONValue(parsing: Data(golden.utf8)) else {
            throw EventSchemaError(.malformedJSON, "golden is not an object")
        }
        edit(&members)
        return try JSONEncoder().encode(JSONValue.object(members))
    }

    /// The error decoding `bytes` as an alarm.raised throws, or nil when it decodes.
    static func decodingError(_ bytes: Data) -> EventSchemaError? {
        do {
            _ = try CloudEvent<AlarmRaised>.decode(from: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test("encodes to the documented JSON")
    func encodesGolden() throws {
        #expect(String(decoding: try Self.event.jsonData(), as: UTF8.self) == Self.golden)
    }

    @Test("decodes the documented JSON back to the same event")
    func decodesGolden() throws {
        let decoded = try CloudEvent<AlarmRaised>.decode(from: Data(Self.golden.utf8))
        #expect(decoded == Self.event)
        #expect(decoded.data.asset.cell == "press-3")
    }

    @Test("ignores unknown attributes and unknown data members")
    func ignoresUnknown() throws {
        let bytes = try Self.golden { members in
            members["traceparent"] = .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            if case .object(var data)? = members["data"] {
                data["zone"] = .string("north")
                members["data"] = .object(data)
            }
        }
        #expect(try CloudEvent<AlarmRaised>.decode(from: bytes) == Self.event)
    }

    @Test("rejects a missing specversion, naming it")
    func missingSpecVersion() throws {
        let error = try #require(Self.decodingError(try Self.golden { $0["specversion"] = nil }))
        #expect(error.code == .missingAttribute)
        #expect(error.attribute == "specversion")
        #expect(error.message.contains("\"specversion\" is missing"))
    }

    @Test("rejects other CloudEvents versions")
    func otherSpecVersion() throws {
        let error = try #require(Self.decodingError(try Self.golden { $0["specversion"] = .string("0.3") }))
        #expect(error.code == .invalidAttribute)
        #expect(error.message.contains("\"0.3\""))
    }

    @Test("names each missing required attribute", arguments: ["id", "source", "type", "time", "data"])
    func missingRequired(attribute: String) throws {
        let error = try #require(Self.decodingError(try Self.golden { $0[attribute] = nil }))
        #expect(error.code == .missingAttribute)
        #expect(error.attribute == attribute)
    }

    @Test("accepts an absent datacontenttype, subject and correlationid")
    func optionalAttributes() throws {
        let bytes = try Self.golden {
            $0["datacontenttype"] = nil
            $0["subject"] = nil
            $0["correlationid"] = nil
        }
        let decoded = try CloudEvent<AlarmRaised>.decode(from: bytes)
        #expect(decoded.correlationID == nil)
        #expect(decoded.data == AlarmRaised.example)
    }

    @Test("rejects a non-JSON content type")
    func contentType() throws {
        let error = try #require(Self.decodingError(try Self.golden { $0["datacontenttype"] = .string("text/plain") }))
        #expect(error.attribute == "datacontenttype")
    }

    @Test("rejects an event of another type before reading its data")
    func wrongType() throws {
        let error = try #require(Self.decodingError(try Self.golden {
            $0["type"] = .string(EquipmentStateChanged.eventType)
        }))
        #expect(error.code == .typeMismatch)
        #expect(error.message.contains(EquipmentStateChanged.eventType))
    }

    @Test("names the data member of the wrong type")
    func wrongDataMember() throws {
        let bytes = try Self.golden { members in
            if case .object(var data)? = members["data"] {
                data["threshold"] = .string("high")
                members["data"] = .object(data)
            }
        }
        let error = try #require(Self.decodingError(bytes))
        #expect(error.attribute == "data.threshold")
    }

    @Test("rejects an invalid asset path inside data")
    func invalidAsset() throws {
        let bytes = try Self.golden { members in
            if case .object(var data)? = members["data"] {
                data["asset"] = .string("acme")
                members["data"] = .object(data)
            }
        }
        #expect(Self.decodingError(bytes)?.attribute == "data.asset")
    }

    @Test("reads the attributes alone to dispatch on type")
    func attributesOnly() throws {
        let attributes = try CloudEventAttributes.decode(from: Data(Self.golden.utf8))
        #expect(attributes.type == AlarmRaised.eventType)
        #expect(attributes.id == "evt-1")
        #expect(EventRegistry.type(named: attributes.type) == AlarmRaised.self)
    }

    @Test("rejects bytes that are not JSON")
    func notJSON() {
        #expect(Self.decodingError(Data("not json".utf8))?.code == .malformedJSON)
    }
}

@Suite("RFC 3339 time")
struct RFC3339Tests {
    @Test("writes UTC with exactly three fractional digits, rounded")
    func format() {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_795_335_330.25)) == "2026-11-22T08:15:30.250Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_795_335_330.123)) == "2026-11-22T08:15:30.123Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_795_335_330.9996)) == "2026-11-22T08:15:31.000Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test("reads offsets, lower case and any precision", arguments: [
        "2026-11-22T08:15:30.250Z", "2026-11-22T09:15:30.25+01:00", "2026-11-22t08:15:30.250z",
        "2026-11-22T08:15:30.250000Z",
    ])
    func parse(text: String) throws {
        let date = try #require(RFC3339.date(from: text))
        #expect(abs(date.timeIntervalSince1970 - 1_795_335_330.25) < 0.000_5)
    }

    @Test("rejects what is not RFC 3339", arguments: [
        "2026-11-22", "2026-11-22 08:15:30Z", "1795335330", "2026-11-22T08:15:30", "yesterday",
    ])
    func rejects(text: String) {
        #expect(RFC3339.date(from: text) == nil)
    }

    @Test("a time without a zone is refused by the decoder, naming the attribute")
    func envelopeTime() throws {
        let bytes = try CloudEventTests.golden { $0["time"] = .string("2026-11-22T08:15:30") }
        #expect(CloudEventTests.decodingError(bytes)?.attribute == "time")
    }
}
