/// The one error type of the EventSchema library: a stable code a program can switch on and a message a
/// person can act on (what was wrong, the value, what is accepted).
public struct EventSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable codes; the raw values are part of the API (logs and metrics use them).
    public enum Code: String, Sendable, Equatable {
        /// An ISA-95 name, metric, event type, service name or prefix is not a valid topic segment.
        case invalidName = "invalid_name"
        /// An ISA-95 path has the wrong number of levels or a gap (a line without an area).
        case invalidPath = "invalid_path"
        /// A CloudEvents attribute the envelope requires is absent.
        case missingAttribute = "missing_attribute"
        /// A CloudEvents attribute is present but its value is not accepted.
        case invalidAttribute = "invalid_attribute"
        /// The envelope carries a `type` other than the one the caller asked to decode.
        case typeMismatch = "type_mismatch"
        /// The bytes are not JSON, or `data` does not decode as the event type.
        case malformedJSON = "malformed_json"
        /// A JSON Schema document uses a construct this library does not describe.
        case unsupportedSchema = "unsupported_schema"
    }

    /// What went wrong, stable across releases.
    public let code: Code
    /// The attribute or field concerned, when there is one (`specversion`, `data.asset`).
    public let attribute: String?
    /// The library's own message, naming the value and what is accepted.
    public let message: String

    /// Creates an error; `message` must never contain secrets (events carry none, but stay careful).
    public init(_ code: Code, attribute: String? = nil, _ message: String) {
        self.code = code
        self.attribute = attribute
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
