/// A work order's status. The lifecycle (ISA-95 job order states, simplified):
///
/// ```
/// created ─release→ released ─start→ running ─complete→ completed
///    │                 │              │  ↑
///    │                 │            pause start
///    │                 │              ↓  │
///    └──cancel─────────┴──cancel──── paused ─cancel→ cancelled
/// ```
/// `running` can also be cancelled. `completed` and `cancelled` are final.
public enum WorkOrderStatus: String, Sendable, Codable, CaseIterable {
    case created, released, running, paused, completed, cancelled
}

/// What a person asks a work order to do.
public enum WorkOrderAction: String, Sendable, Codable, CaseIterable {
    case release, start, pause, complete, cancel
}

/// The work-order state machine: a pure function, unit-tested without a store.
public enum WorkOrderLifecycle {
    /// The status after `action`, or `.illegalTransition` saying which actions the current status allows.
    public static func apply(_ action: WorkOrderAction, to status: WorkOrderStatus,
                             workOrder id: String) throws(APIError) -> WorkOrderStatus {
        if let next = transitions[status]?[action] { return next }
        let allowed = allowedActions(from: status).map(\.rawValue)
        throw APIError(.illegalTransition,
                       "work order \"\(id)\" is \(status.rawValue); it cannot \(action.rawValue) "
                           + (allowed.isEmpty ? "(\(status.rawValue) is final)" : "(allowed: \(allowed.joined(separator: ", ")))"))
    }

    /// The actions `status` accepts, in lifecycle order.
    public static func allowedActions(from status: WorkOrderStatus) -> [WorkOrderAction] {
        WorkOrderAction.allCases.filter { transitions[status]?[$0] != nil }
    }

    private static let transitions: [WorkOrderStatus: [WorkOrderAction: WorkOrderStatus]] = [
        .created: [.release: .released, .cancel: .cancelled],
        .released: [.start: .running, .cancel: .cancelled],
        .running: [.pause: .paused, .complete: .completed, .cancel: .cancelled],
        .paused: [.start: .running, .complete: .completed, .cancel: .cancelled],
        .completed: [:],
        .cancelled: [:],
    ]
}
