import Foundation

/// How urgent an alarm is (ISA-18.2 priorities).
public enum AlarmSeverity: String, Codable, Sendable, CaseIterable {
    case low, medium, high, critical
}

/// A metric crossed an alarm threshold.
public struct AlarmRaised: ShopfloorEvent {
    public static let eventType = "io.shopfloor.alarm.raised.v1"

    /// Stable while the alarm is active; `AlarmCleared` repeats it.
    public var alarmId: String
    /// The machine.
    public var asset: ISA95Path
    /// The metric that crossed the threshold, as in its UNS value topic (`spindle/temperature`).
    public var metric: String
    /// How urgent.
    public var severity: AlarmSeverity
    /// The configured limit that was crossed.
    public var threshold: Double
    /// The value that crossed it.
    public var value: Double
    /// A sentence for the operator.
    public var message: String

    /// Creates the event.
    public init(alarmId: String, asset: ISA95Path, metric: String, severity: AlarmSeverity,
                threshold: Double, value: Double, message: String) {
        self.alarmId = alarmId
        self.asset = asset
        self.metric = metric
        self.severity = severity
        self.threshold = threshold
        self.value = value
        self.message = message
    }

    public static var schema: JSONSchema {
        .object([
            .required("alarmId", .string("stable while active; repeated by alarm.cleared")),
            .required("asset", .isa95Path()),
            .required("metric", .string("metric name as in its UNS value topic")),
            .required("severity", .enumeration(AlarmSeverity.self)),
            .required("threshold", .number("the limit crossed")),
            .required("value", .number("the value that crossed it")),
            .required("message", .string("for the operator")),
        ])
    }

    public static var example: AlarmRaised {
        AlarmRaised(alarmId: "press-3/spindle/temperature/high", asset: ExampleValues.press,
                    metric: "spindle/temperature", severity: .high, threshold: 85, value: 87.4,
                    message: "Spindle temperature 87.4 °C above 85 °C")
    }
}
