import Foundation

/// The payload of a host application's STATE message (Sparkplug 3.0): UTF-8 JSON
/// `{"online": bool, "timestamp": ms}`, published QoS 1 retained on `spBv1.0/STATE/<host_id>`.
public struct HostState: Sendable, Equatable, Codable {
    /// Whether the host application is online.
    public var online: Bool
    /// Milliseconds since the Unix epoch, UTC: the CONNECT time for the birth and the Will.
    public var timestamp: UInt64

    /// Creates a STATE payload.
    public init(online: Bool, timestamp: UInt64) {
        self.online = online
        self.timestamp = timestamp
    }

    /// The JSON bytes, keys in the order the specification shows.
    public func encode() -> [UInt8] {
        Array("{\"online\":\(online),\"timestamp\":\(timestamp)}".utf8)
    }

    /// Decodes STATE JSON; both keys are required, unknown keys are ignored.
    public init(decoding bytes: [UInt8]) throws(SparkplugError) {
        do {
            self = try JSONDecoder().decode(HostState.self, from: Data(bytes))
        } catch {
            throw SparkplugError(.invalidState, "STATE payload",
                                 "expected JSON {\"online\": bool, \"timestamp\": ms}: \(error)")
        }
    }
}
