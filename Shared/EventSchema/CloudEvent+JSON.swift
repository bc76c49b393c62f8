import Foundation

extension CloudEvent {
    /// The event in the CloudEvents JSON format: compact, keys sorted, dates RFC 3339.
    public func jsonData() throws(EventSchemaError) -> Data {
        do {
            return try EventJSON.makeEncoder().encode(self)
        } catch {
            throw EventSchemaError(.malformedJSON, "cannot encode CloudEvent \"\(id)\" of type \"\(type)\": \(error)")
        }
    }

    /// Decodes and validates an encoded CloudEvent; errors name the attribute or `data` field at fault.
    /// When `Payload` is a `ShopfloorEvent`, the envelope's `type` must be its `eventType`.
    public static func decode(from bytes: Data) throws(EventSchemaError) -> CloudEvent<Payload> {
        if let expected = (Payload.self as? any ShopfloorEvent.Type)?.eventType {
            // Check the type before decoding data, so a wrong type is reported as such and not as
            // whatever field of `data` happens not to match first.
            let attributes = try CloudEventAttributes.decode(from: bytes)
            guard attributes.type == expected else {
                throw EventSchemaError(.typeMismatch, attribute: "type", "CloudEvent \"\(attributes.id)\" "
                                       + "has type \"\(attributes.type)\"; expected \"\(expected)\"")
            }
        }
        return try CloudEventCoding.decode(CloudEvent<Payload>.self, from: bytes)
    }
}

/// Turns Foundation's decoding errors into `EventSchemaError`s that name the JSON member at fault.
enum CloudEventCoding {
    /// Decodes `type` with the event decoder, mapping every failure to an `EventSchemaError`.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: Data) throws(EventSchemaError) -> T {
        do {
            return try EventJSON.makeDecoder().decode(type, from: bytes)
        } catch let error as EventSchemaError {
            throw error
        } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw EventSchemaError(.malformedJSON, "CloudEvent is not valid JSON: \(error)")
        }
    }

    /// A precise message for a DecodingError, naming the dotted path (`data.good`).
    static func describe(_ error: DecodingError) -> EventSchemaError {
        func dotted(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let path = dotted(context.codingPath + [key])
            return EventSchemaError(.missingAttribute, attribute: path, "CloudEvent field \"\(path)\" is missing")
        case .typeMismatch(let expected, let context), .valueNotFound(let expected, let context):
            let path = dotted(context.codingPath)
            return EventSchemaError(.invalidAttribute, attribute: path,
                                    "CloudEvent field \"\(path)\" is not a valid \(expected)")
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return EventSchemaError(.malformedJSON, "CloudEvent is not valid JSON: \(context.debugDescription)")
        case .dataCorrupted(let context):
            let path = dotted(context.codingPath)
            return EventSchemaError(.invalidAttribute, attribute: path,
                                    "CloudEvent field \"\(path)\": \(context.debugDescription)")
        @unknown default:
            return EventSchemaError(.malformedJSON, "CloudEvent cannot be decoded: \(error)")
        }
    }
}
