import Foundation

/// The state a machine is in, after the usual MES state model (ISA-95 / OEE availability buckets).
public enum EquipmentState: String, Codable, Sendable, CaseIterable {
    /// Producing.
    case running
    /// Ready, not producing, no cause upstream or downstream.
    case idle
    /// Waiting for material from upstream.
    case starved
    /// Cannot output: downstream full or stopped.
    case blocked
    /// Changeover or set-up for the next product.
    case setup
    /// Stopped by a fault (unplanned downtime).
    case down
    /// Stopped for planned maintenance.
    case maintenance
    /// No data: device or edge node unreachable.
    case offline
}

/// A machine changed state, derived by `stream` from its state tag.
public struct EquipmentStateChanged: ShopfloorEvent {
    public static let eventType = "io.shopfloor.equipment.state_changed.v1"

    /// The machine.
    public var asset: ISA95Path
    /// The previous state; nil when this is the first state seen for the asset.
    public var from: EquipmentState?
    /// The new state.
    public var to: EquipmentState
    /// Why, when known: a fault text, a stop reason code.
    public var reason: String?
    /// When the new state began.
    public var since: Date

    /// Creates the event.
    public init(asset: ISA95Path, from: EquipmentState?, to: EquipmentState, reason: String? = nil, since: Date) {
        self.asset = asset
        self.from = from
        self.to = to
        self.reason = reason
        self.since = since
    }

    public static var schema: JSONSchema {
        .object([
            .required("asset", .isa95Path()),
            .optional("from", .enumeration(EquipmentState.self, "previous state; absent for the first one seen")),
            .required("to", .enumeration(EquipmentState.self, "new state")),
            .optional("reason", .string("fault text or stop reason")),
            .required("since", .dateTime("when the new state began")),
        ])
    }

    public static var example: EquipmentStateChanged {
        EquipmentStateChanged(asset: ExampleValues.press, from: .running, to: .down,
                              reason: "E-STOP pressed at operator panel", since: ExampleValues.time)
    }
}
