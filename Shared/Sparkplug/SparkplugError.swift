/// The one error type of the Sparkplug library: what was wrong, where in the payload or topic, and why.
public struct SparkplugError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable reason; the message carries the detail.
    public enum Code: String, Sendable {
        /// The bytes are not a protobuf `Payload` (truncated, bad wire type, bad length).
        case malformedProtobuf
        /// Messages nest deeper than the decoder allows (templates or property sets inside each other).
        case nestingTooDeep
        /// A string field is not valid UTF-8 or contains a NUL byte.
        case invalidString
        /// A datatype number outside 0...34, or a type not allowed in that place.
        case unknownDataType
        /// The value member does not fit the declared datatype (for example Int8 in `string_value`).
        case valueMismatch
        /// An integer does not fit its datatype.
        case valueOutOfRange
        /// A packed array value whose length does not match its element size or count.
        case malformedArray
        /// A DataSet whose column names, types and rows disagree.
        case invalidDataSet
        /// A Template that breaks the definition / instance rules.
        case invalidTemplate
        /// A PropertySet whose keys and values disagree, or an unusable property value.
        case invalidPropertySet
        /// A value the protobuf-c representation cannot carry (a string with a NUL byte).
        case unencodable
        /// A topic that is not a Sparkplug B 3.0 topic.
        case invalidTopic
        /// A DATA or CMD metric whose alias was not defined in the BIRTH.
        case unknownAlias
        /// A metric without name and alias, or an unknown name.
        case unknownMetric
        /// The same alias or name defined twice for one edge node.
        case duplicateAlias
        /// A STATE payload that is not `{"online": bool, "timestamp": ms}`.
        case invalidState
    }

    /// Why it failed.
    public let code: Code
    /// Where it failed: a metric name and field path, a topic, ...
    public let context: String
    /// What was wrong and what is accepted.
    public let message: String

    init(_ code: Code, _ context: String, _ message: String) {
        self.code = code
        self.context = context
        self.message = message
    }

    public var description: String {
        context.isEmpty ? "sparkplug \(code.rawValue): \(message)"
            : "sparkplug \(code.rawValue): \(context): \(message)"
    }
}
