import Foundation

/// A CloudEvents 1.0 event in the JSON event format (structured mode): the envelope every UNS event uses.
///
/// Attributes are top-level JSON members with lower-case names (CloudEvents 1.0 §3.1.1), including the
/// `correlationid` extension that traces one cause across services. Shopfloor's profile on top of the
/// spec: `time` and `data` are always present, `datacontenttype` is `application/json`, `subject` is the
/// ISA-95 path of the asset. Unknown members (other extensions) are ignored when decoding.
/// Encode and decode with `jsonData()` / `decode(from:)` so dates use RFC 3339.
public struct CloudEvent<Payload: Codable>: Codable {
    /// The only CloudEvents version this library reads and writes.
    public static var specVersion: String { "1.0" }
    /// The content type of `data`.
    public static var jsonContentType: String { "application/json" }

    /// Unique per `source`; consumers deduplicate on (`source`, `id`) since delivery is at-least-once.
    public var id: String
    /// URI-reference of the producer, e.g. `/shopfloor/stream/stream-1`.
    public var source: String
    /// Versioned event type, e.g. `io.shopfloor.alarm.raised.v1`.
    public var type: String
    /// When the occurrence happened (not when it was published).
    public var time: Date
    /// The asset the event is about, as an ISA-95 path string.
    public var subject: String?
    /// Always `application/json` when written; absent is read as JSON too (CloudEvents JSON format §3.1).
    public var dataContentType: String?
    /// Extension attribute: ties together events and requests caused by the same thing.
    public var correlationID: String?
    /// The event's payload.
    public var data: Payload

    /// Creates an envelope with every attribute given.
    public init(id: String, source: String, type: String, time: Date, subject: String? = nil,
                correlationID: String? = nil, data: Payload) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.dataContentType = Self.jsonContentType
        self.correlationID = correlationID
        self.data = data
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CloudEventKey.self)
        let attributes = try CloudEventAttributes(container: container)
        id = attributes.id
        source = attributes.source
        type = attributes.type
        time = attributes.time
        subject = attributes.subject
        dataContentType = attributes.dataContentType
        correlationID = attributes.correlationID
        guard container.contains(.data) else {
            throw EventSchemaError(.missingAttribute, attribute: "data",
                                   "CloudEvent \"\(id)\" of type \"\(type)\" has no \"data\"")
        }
        data = try container.decode(Payload.self, forKey: .data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CloudEventKey.self)
        try container.encode(Self.specVersion, forKey: .specversion)
        try container.encode(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(type, forKey: .type)
        try container.encode(time, forKey: .time)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encodeIfPresent(dataContentType, forKey: .datacontenttype)
        try container.encodeIfPresent(correlationID, forKey: .correlationid)
        try container.encode(data, forKey: .data)
    }
}

extension CloudEvent: Sendable where Payload: Sendable {}
extension CloudEvent: Equatable where Payload: Equatable {}

/// The JSON member names of the envelope: CloudEvents attribute names are lower-case (§3.1.1).
enum CloudEventKey: String, CodingKey, CaseIterable {
    case specversion, id, source, type, time, subject, datacontenttype, correlationid, data
}
