import Synchronization

/// The named checks `/health` reports. A service registers what it depends on (`mqtt`, `store`) and updates
/// it as connections come and go; `/health` answers 503 while any check is failing.
public final class HealthChecks: Sendable {
    /// One check's state: healthy or not, and why, for the operator reading `/health`.
    public struct Status: Sendable, Equatable {
        public var healthy: Bool
        public var detail: String

        public init(healthy: Bool, detail: String) {
            self.healthy = healthy
            self.detail = detail
        }
    }

    private let checks = Mutex<[String: Status]>([:])

    public init() {}

    /// Sets the state of the check `name`, adding it when new.
    public func set(_ name: String, healthy: Bool, detail: String = "") {
        checks.withLock { $0[name] = Status(healthy: healthy, detail: detail) }
    }

    /// Every check, by name.
    public var snapshot: [String: Status] { checks.withLock { $0 } }

    /// True when every registered check is healthy (also when none is registered).
    public var isHealthy: Bool { snapshot.values.allSatisfy(\.healthy) }
}
