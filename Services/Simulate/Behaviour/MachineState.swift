/// What a machine is doing; the raw value is what holding register 2 reports.
enum MachineState: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    /// The run coil is off.
    case stopped = 0
    case running = 1
    /// Idle: no material from upstream.
    case starved = 2
    /// Idle: downstream cannot take the output.
    case blocked = 3
    /// Setup or changeover to another product.
    case setup = 4
    /// Down with a fault code (alarm register) until repaired.
    case down = 5
    case maintenance = 6

    var description: String {
        switch self {
        case .stopped: "stopped"
        case .running: "running"
        case .starved: "starved"
        case .blocked: "blocked"
        case .setup: "setup"
        case .down: "down"
        case .maintenance: "maintenance"
        }
    }
}
