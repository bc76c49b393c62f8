import Foundation

/// An active alarm ended: the metric came back within limits or a person cleared it.
public struct AlarmCleared: ShopfloorEvent {
    public static let eventType = "io.shopfloor.alarm.cleared.v1"

    /// The `alarmId` of the `AlarmRaised` this ends.
    public var alarmId: String
    /// The machine.
    public var asset: ISA95Path
    /// The metric's value when cleared, when there is one.
    public var value: Double?
    /// `auto` when the value returned within limits, otherwise the user who cleared it.
    public var clearedBy: String

    /// Creates the event.
    public init(alarmId: String, asset: ISA95Path, value: Double? = nil, clearedBy: String) {
        self.alarmId = alarmId
        self.asset = asset
        self.value = value
        self.clearedBy = clearedBy
    }

    public static var schema: JSONSchema {
        .object([
            .required("alarmId", .string("the alarm.raised this ends")),
            .required("asset", .isa95Path()),
            .optional("value", .number("the metric's value when cleared")),
            .required("clearedBy", .string("\"auto\" or the user who cleared it")),
        ])
    }

    public static var example: AlarmCleared {
        AlarmCleared(alarmId: "press-3/spindle/temperature/high", asset: ExampleValues.press, value: 82.1,
                     clearedBy: "auto")
    }
}
