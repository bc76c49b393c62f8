/// A configuration value that cannot be used. The description names the flag and the environment variable,
/// the value given and what is accepted, so the operator can fix it without reading code.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The configuration key, as its flag and environment variable: `--http-port / HTTP_PORT`.
    public let key: String
    /// The value that was rejected (already redacted when it can carry a secret).
    public let value: String
    /// What is accepted.
    public let expected: String

    public init(key: String, value: String, expected: String) {
        self.key = key
        self.value = value
        self.expected = expected
    }

    public var description: String {
        "invalid configuration \(key) = \"\(value)\": expected \(expected)"
    }
}
