import Foundation

/// Parts produced by an asset over a time window (the basis of OEE performance and quality).
public struct ProductionCounted: ShopfloorEvent {
    public static let eventType = "io.shopfloor.production.counted.v1"

    /// The machine or line.
    public var asset: ISA95Path
    /// Good parts in the window.
    public var good: Int
    /// Rejected parts in the window.
    public var scrap: Int
    /// All parts in the window (good + scrap, unless the machine counts rework separately).
    public var total: Int
    /// Start of the window, inclusive.
    public var windowStart: Date
    /// End of the window, exclusive.
    public var windowEnd: Date
    /// The work order running in the window, when known.
    public var workOrderId: String?

    /// Creates the event.
    public init(asset: ISA95Path, good: Int, scrap: Int, total: Int, windowStart: Date, windowEnd: Date,
                workOrderId: String? = nil) {
        self.asset = asset
        self.good = good
        self.scrap = scrap
        self.total = total
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.workOrderId = workOrderId
    }

    public static var schema: JSONSchema {
        .object([
            .required("asset", .isa95Path()),
            .required("good", .integer(minimum: 0)),
            .required("scrap", .integer(minimum: 0)),
            .required("total", .integer(minimum: 0)),
            .required("windowStart", .dateTime("inclusive")),
            .required("windowEnd", .dateTime("exclusive")),
            .optional("workOrderId", .string()),
        ])
    }

    public static var example: ProductionCounted {
        ProductionCounted(asset: ExampleValues.press, good: 118, scrap: 2, total: 120,
                          windowStart: ExampleValues.time.addingTimeInterval(-60), windowEnd: ExampleValues.time,
                          workOrderId: "WO-2026-0042")
    }
}
