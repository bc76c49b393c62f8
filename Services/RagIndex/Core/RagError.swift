/// The one error type of `RagCore`.
///
/// `code` is stable and meant for `switch` and for the `error.code` of MQTT replies; `message` says what was
/// wrong, with the value and what is accepted; `context` says where it was thrown. Never carries API keys.
public struct RagError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; stable across releases.
    public enum Code: String, Sendable {
        /// The model files are missing or unreadable (run scripts/fetch-model.sh).
        case modelMissing
        /// A model file is there but its content is not what the loader expects.
        case invalidModel
        /// A document could not be read.
        case documentUnreadable
        /// The index file is missing, or was written by something else.
        case invalidIndex
        /// A request (MQTT or CLI) was malformed: bad JSON, empty question, limit out of range.
        case badRequest
        /// The configured chat endpoint failed or answered something unusable.
        case llmFailed
        /// A configuration value was wrong.
        case invalidConfiguration
    }

    public let code: Code
    public let message: String
    public let context: String

    public init(code: Code, message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { "rag-index \(code.rawValue) in \(context): \(message)" }
}
