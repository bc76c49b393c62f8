/// One configuration key: a command-line flag and the environment variable that stands in for it.
/// Flags win over the environment, the environment over the default.
public struct ConfigKey: Sendable, CustomStringConvertible {
    public let flag: String
    public let environment: String

    public init(flag: String, environment: String) {
        self.flag = flag
        self.environment = environment
    }

    public var description: String { "--\(flag) / \(environment)" }

    /// The raw value: the flag's if given, else the environment variable's, else nil.
    public func raw(flag value: String?, in environment: [String: String]) -> String? {
        if let value { return value }
        if let value = environment[self.environment], !value.isEmpty { return value }
        return nil
    }

    /// Parses an integer within `range`; a wrong value throws a `ConfigError` naming this key.
    public func integer(flag value: String?, in environment: [String: String], default fallback: Int,
                        range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let raw = raw(flag: value, in: environment) else { return fallback }
        guard let parsed = Int(raw), range.contains(parsed) else {
            throw ConfigError(key: description, value: raw,
                              expected: "an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return parsed
    }

    /// Parses one of a fixed set of words; a wrong value lists the accepted ones.
    public func choice<T: RawRepresentable & CaseIterable>(
        flag value: String?, in environment: [String: String], default fallback: T
    ) throws(ConfigError) -> T where T.RawValue == String {
        guard let raw = raw(flag: value, in: environment) else { return fallback }
        guard let parsed = T(rawValue: raw.lowercased()) else {
            let accepted = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(key: description, value: raw, expected: "one of \(accepted)")
        }
        return parsed
    }
}
