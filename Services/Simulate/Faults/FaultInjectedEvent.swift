import EventSchema
import Foundation

extension FaultInjected {
    /// The UNS event for `fault`, injected into `machine` of `plant`.
    init(_ fault: InjectedFault, machine: Plant.Machine, plant: Plant, origin: Origin) throws(EventSchemaError) {
        let kind: Kind
        let argument: Int?
        switch fault.kind {
        case .silent: (kind, argument) = (.silent, nil)
        case .outOfRange: (kind, argument) = (.outOfRange, nil)
        case .slow(let delay):
            (kind, argument) = (.slow, Int(delay.components.seconds * 1000
                + delay.components.attoseconds / 1_000_000_000_000_000))
        case .exception(let code): (kind, argument) = (.exception, Int(code.rawValue))
        case .down(let code): (kind, argument) = (.down, Int(code))
        }
        let duration = Double(fault.duration.components.seconds) + Double(fault.duration.components.attoseconds) / 1e18
        self.init(asset: try plant.path(of: machine), machine: fault.machine, kind: kind, argument: argument,
                  durationSeconds: duration, origin: origin)
    }
}

extension Plant {
    /// The ISA-95 path of a machine (its cell).
    func path(of machine: Plant.Machine) throws(EventSchemaError) -> ISA95Path {
        try ISA95Path(enterprise: enterprise, site: site, area: machine.area, line: machine.line, cell: machine.name)
    }
}
