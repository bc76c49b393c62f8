import Foundation

/// Reads the integration-test settings CI provides (`MQTT_HOST`, `MQTT_PORT`, `POSTGRES_*`, …).
/// A missing variable is an error with a clear message, never a silently skipped test.
public enum TestEnvironment {
    /// A required variable is missing or malformed.
    public struct Missing: Error, CustomStringConvertible {
        /// What is wrong and how to fix it.
        public let description: String

        /// Creates the error with its message.
        public init(description: String) { self.description = description }
    }

    /// The value of `name`, or an error telling the developer to set it.
    public static func require(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw Missing(description: "environment variable \(name) is not set; integration tests need a real server "
                + "(e.g. `MQTT_HOST=127.0.0.1 MQTT_PORT=1883 swift test`)")
        }
        return value
    }

    /// The integer value of `name` within `range`.
    public static func requireInt(_ name: String, in range: ClosedRange<Int> = 1...65535) throws -> Int {
        let text = try require(name)
        guard let value = Int(text), range.contains(value) else {
            throw Missing(description: "environment variable \(name)=\"\(text)\" is not an integer in \(range)")
        }
        return value
    }

    /// The broker from `MQTT_HOST` and `MQTT_PORT`.
    public static func mqttBroker() throws -> (host: String, port: Int) {
        (try require("MQTT_HOST"), try requireInt("MQTT_PORT"))
    }

    /// A name no other test (or test run) uses, e.g. `test/3F2A…`, for topic prefixes, schemas, client ids.
    public static func uniqueName(_ base: String = "test", separator: String = "/") -> String {
        base + separator + UUID().uuidString.lowercased()
    }
}
