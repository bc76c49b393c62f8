import EventSchema
import Foundation

/// The data of the CloudEvent `io.shopfloor.simulate.fault_injected.v1`, published on the machine's UNS
/// event topic `<prefix>/<enterprise>/<site>/<area>/<line>/<cell>/event/fault.injected` whenever a fault is
/// injected, so a test harness (or a person with `mosquitto_sub`) can line up what the gateway and stream
/// saw with what was done to the plant.
struct FaultInjected: Codable, Equatable, Sendable {
    static let eventType = "io.shopfloor.simulate.fault_injected.v1"
    static let topicType = "fault.injected"

    var machine: String
    /// silent, slow, exception, out-of-range or down.
    var kind: String
    /// The delay in ms (slow), exception code (exception) or fault code (down); absent otherwise.
    var argument: Int?
    var durationSeconds: Double
    /// `mqtt` or `scenario`.
    var origin: String

    init(_ fault: InjectedFault, origin: String) {
        machine = fault.machine
        kind = fault.kindName
        switch fault.kind {
        case .silent, .outOfRange: argument = nil
        case .slow(let delay):
            argument = Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
        case .exception(let code): argument = Int(code.rawValue)
        case .down(let code): argument = Int(code)
        }
        durationSeconds =
            Double(fault.duration.components.seconds) + Double(fault.duration.components.attoseconds) / 1e18
        self.origin = origin
    }
}

extension Plant {
    /// The ISA-95 path of a machine (its cell).
    func path(of machine: Machine) throws(EventSchemaError) -> ISA95Path {
        try ISA95Path(enterprise: enterprise, site: site, area: machine.area, line: machine.line, cell: machine.name)
    }
}
