import Foundation

/// The context attributes of a CloudEvent without its data: what a consumer reads first to decide which
/// event type to decode (`type`) and whether it has seen the event already (`source`, `id`).
public struct CloudEventAttributes: Sendable, Equatable, Decodable {
    /// See `CloudEvent.id`.
    public let id: String
    /// See `CloudEvent.source`.
    public let source: String
    /// See `CloudEvent.type`.
    public let type: String
    /// See `CloudEvent.time`.
    public let time: Date
    /// See `CloudEvent.subject`.
    public let subject: String?
    /// See `CloudEvent.dataContentType`.
    public let dataContentType: String?
    /// See `CloudEvent.correlationID`.
    public let correlationID: String?

    public init(from decoder: any Decoder) throws {
        try self.init(container: decoder.container(keyedBy: CloudEventKey.self))
    }

    /// Reads and checks the attributes; a problem throws an `EventSchemaError` naming the attribute.
    init(container: KeyedDecodingContainer<CloudEventKey>) throws {
        func required(_ key: CloudEventKey) throws -> String {
            guard let value = try container.decodeIfPresent(String.self, forKey: key) else {
                throw EventSchemaError(.missingAttribute, attribute: key.rawValue,
                                       "CloudEvent attribute \"\(key.rawValue)\" is missing; "
                                       + "specversion, id, source, type, time and data are required")
            }
            // CloudEvents 1.0 §3.1: required string attributes must be non-empty.
            guard !value.isEmpty else {
                throw EventSchemaError(.invalidAttribute, attribute: key.rawValue,
                                       "CloudEvent attribute \"\(key.rawValue)\" is empty")
            }
            return value
        }
        let version = try required(.specversion)
        guard version == CloudEvent<Bool>.specVersion else {
            throw EventSchemaError(.invalidAttribute, attribute: "specversion",
                                   "CloudEvent attribute \"specversion\" is \"\(version)\"; only \"1.0\" is supported")
        }
        id = try required(.id)
        source = try required(.source)
        if source.contains(where: \.isWhitespace) {
            throw EventSchemaError(.invalidAttribute, attribute: "source", "CloudEvent attribute \"source\" "
                                   + "\"\(source)\" is not a URI-reference (it contains whitespace)")
        }
        type = try required(.type)
        let timeText = try required(.time)
        guard let time = RFC3339.date(from: timeText) else {
            throw EventSchemaError(.invalidAttribute, attribute: "time", "CloudEvent attribute \"time\" "
                                   + "\"\(timeText)\" is not an RFC 3339 date-time such as 2026-11-22T08:15:30.250Z")
        }
        self.time = time
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        dataContentType = try container.decodeIfPresent(String.self, forKey: .datacontenttype)
        if let dataContentType, !dataContentType.hasPrefix(CloudEvent<Bool>.jsonContentType) {
            throw EventSchemaError(.invalidAttribute, attribute: "datacontenttype",
                                   "CloudEvent attribute \"datacontenttype\" is \"\(dataContentType)\"; "
                                   + "Shopfloor events carry \"application/json\"")
        }
        correlationID = try container.decodeIfPresent(String.self, forKey: .correlationid)
    }

    /// Reads the attributes of an encoded CloudEvent, ignoring `data`.
    public static func decode(from bytes: Data) throws(EventSchemaError) -> CloudEventAttributes {
        try CloudEventCoding.decode(CloudEventAttributes.self, from: bytes)
    }
}
