import Synchronization

/// The named checks `/health` reports. A service registers what it depends on (`mqtt`, `store`) and updates
/// it as connections come and go; `/health` answers 503 while any critical check is failing. A check that is
/// not critical (one field device of many) is reported, and makes the status `degraded`, but keeps 200: a
/// liveness probe must not restart the gateway because a press is switched off.
public final class HealthChecks: Sendable {
    /// One check's state: healthy or not, and why, for the operator reading `/health`.
    public struct Status: Sendable, Equatable {
        public var healthy: Bool
        public var detail: String
        public var critical: Bool

        public init(healthy: Bool, detail: String, critical: Bool = true) {
            self.healthy = healthy
            self.detail = detail
            self.critical = critical
        }
    }

    private let checks = Mutex<[String: Status]>([:])

    public init() {}

    /// Sets the state of the check `name`, adding it when new.
    public func set(_ name: String, healthy: Bool, detail: String = "", critical: Bool = true) {
        checks.withLock { $0[name] = Status(healthy: healthy, detail: detail, critical: critical) }
    }

    /// Every check, by name.
    public var snapshot: [String: Status] { checks.withLock { $0 } }

    /// True when every critical check is healthy (also when none is registered).
    public var isHealthy: Bool { snapshot.values.allSatisfy { $0.healthy || !$0.critical } }
}
