import Foundation

/// Any JSON value; what schemas are rendered to and what encoded events are validated as.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses JSON text.
    public init(parsing bytes: Data) throws(EventSchemaError) {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: bytes)
        } catch {
            throw EventSchemaError(.malformedJSON, "not valid JSON: \(error)")
        }
    }

    /// The JSON a value encodes to with the event encoder (RFC 3339 dates).
    public init(encoding value: some Encodable) throws(EventSchemaError) {
        let bytes: Data
        do {
            bytes = try EventJSON.makeEncoder().encode(value)
        } catch {
            throw EventSchemaError(.malformedJSON, "cannot encode \(type(of: value)): \(error)")
        }
        try self.init(parsing: bytes)
    }

    /// The value as stable, human-readable JSON: pretty-printed, keys sorted, trailing newline.
    public func prettyJSON() throws(EventSchemaError) -> Data {
        do {
            return try EventJSON.makeEncoder(pretty: true).encode(self) + Data("\n".utf8)
        } catch {
            throw EventSchemaError(.malformedJSON, "cannot encode JSON: \(error)")
        }
    }

    /// The members of an object; nil for any other value.
    var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { members } else { nil }
    }

    /// The text of a string; nil for any other value.
    var stringValue: String? {
        if case .string(let text) = self { text } else { nil }
    }

    /// The value of a number (integer or not); nil for any other value.
    var numberValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }
}
