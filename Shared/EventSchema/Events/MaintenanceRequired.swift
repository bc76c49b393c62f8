import Foundation

/// A machine's health score fell far enough that maintenance should be planned.
public struct MaintenanceRequired: ShopfloorEvent {
    public static let eventType = "io.shopfloor.maintenance.required.v1"

    /// The machine.
    public var asset: ISA95Path
    /// 100 is as new, 0 is failed.
    public var healthScore: Double
    /// What drove the score down (`vibration RMS trending up 18 % over 24 h`).
    public var reason: String
    /// What to do.
    public var recommendedAction: String
    /// When it should be done by, when known.
    public var due: Date?

    /// Creates the event.
    public init(asset: ISA95Path, healthScore: Double, reason: String, recommendedAction: String, due: Date? = nil) {
        self.asset = asset
        self.healthScore = healthScore
        self.reason = reason
        self.recommendedAction = recommendedAction
        self.due = due
    }

    public static var schema: JSONSchema {
        .object([
            .required("asset", .isa95Path()),
            .required("healthScore", .number(minimum: 0, maximum: 100, "100 as new, 0 failed")),
            .required("reason", .string("what drove the score down")),
            .required("recommendedAction", .string()),
            .optional("due", .dateTime("do it by")),
        ])
    }

    public static var example: MaintenanceRequired {
        MaintenanceRequired(asset: ExampleValues.press, healthScore: 41.5,
                            reason: "Vibration RMS up 18 % over 24 h", recommendedAction: "Inspect main bearing",
                            due: ExampleValues.time.addingTimeInterval(3 * 86_400))
    }
}
