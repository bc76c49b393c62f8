import Foundation

/// A fault was injected into a simulated machine (`simulate`): a test harness, or a person with
/// `mosquitto_sub`, lines up what the gateway and stream saw with what was done to the plant.
public struct FaultInjected: ShopfloorEvent {
    public static let eventType = "io.shopfloor.simulate.fault_injected.v1"

    /// What the machine does while the fault lasts.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Stops answering Modbus requests.
        case silent
        /// Answers after a delay (`argument` ms).
        case slow
        /// Answers with Modbus exception `argument`.
        case exception
        /// Serves values outside their physical range.
        case outOfRange = "out-of-range"
        /// Goes down with fault code `argument`.
        case down
    }

    /// Where the injection came from.
    public enum Origin: String, Codable, Sendable, CaseIterable {
        case mqtt
        case scenario
    }

    /// The machine (its cell).
    public var asset: ISA95Path
    /// The machine's name in the plant file.
    public var machine: String
    public var kind: Kind
    /// The delay in ms (`slow`), exception code (`exception`) or fault code (`down`); absent otherwise.
    public var argument: Int?
    /// How long the fault lasts, in seconds.
    public var durationSeconds: Double
    public var origin: Origin

    /// Creates the event.
    public init(asset: ISA95Path, machine: String, kind: Kind, argument: Int? = nil, durationSeconds: Double,
                origin: Origin) {
        self.asset = asset
        self.machine = machine
        self.kind = kind
        self.argument = argument
        self.durationSeconds = durationSeconds
        self.origin = origin
    }

    public static var schema: JSONSchema {
        .object([
            .required("asset", .isa95Path()),
            .required("machine", .string("the machine's name in the plant file")),
            .required("kind", .enumeration(Kind.self, "what the machine does while the fault lasts")),
            .optional("argument", .integer("delay in ms (slow), exception code (exception) or fault code (down)")),
            .required("durationSeconds", .number(minimum: 0, "how long the fault lasts")),
            .required("origin", .enumeration(Origin.self, "mqtt command or scenario file")),
        ])
    }

    public static var example: FaultInjected {
        FaultInjected(asset: ExampleValues.press, machine: "press-3", kind: .slow, argument: 800,
                      durationSeconds: 60, origin: .mqtt)
    }
}
