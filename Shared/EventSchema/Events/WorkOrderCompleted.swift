import Foundation

/// A work order finished on its asset, with what it produced.
public struct WorkOrderCompleted: ShopfloorEvent {
    public static let eventType = "io.shopfloor.workorder.completed.v1"

    /// Unique work order number.
    public var workOrderId: String
    /// Product or material number made.
    public var product: String
    /// Good parts that were to be made.
    public var quantityTarget: Int
    /// The line or cell that ran it.
    public var asset: ISA95Path
    /// Planned start, when scheduled.
    public var scheduledStart: Date?
    /// Planned end, when scheduled.
    public var scheduledEnd: Date?
    /// Good parts produced.
    public var good: Int
    /// Rejected parts produced.
    public var scrap: Int

    /// Creates the event.
    public init(workOrderId: String, product: String, quantityTarget: Int, asset: ISA95Path,
                scheduledStart: Date? = nil, scheduledEnd: Date? = nil, good: Int, scrap: Int) {
        self.workOrderId = workOrderId
        self.product = product
        self.quantityTarget = quantityTarget
        self.asset = asset
        self.scheduledStart = scheduledStart
        self.scheduledEnd = scheduledEnd
        self.good = good
        self.scrap = scrap
    }

    public static var schema: JSONSchema {
        .object(WorkOrderSchema.properties + [
            .required("good", .integer(minimum: 0, "good parts produced")),
            .required("scrap", .integer(minimum: 0, "rejected parts produced")),
        ])
    }

    public static var example: WorkOrderCompleted {
        WorkOrderCompleted(workOrderId: "WO-2026-0042", product: "BRK-4711 brake bracket", quantityTarget: 5000,
                           asset: ExampleValues.line, scheduledStart: ExampleValues.time,
                           scheduledEnd: ExampleValues.time.addingTimeInterval(8 * 3600), good: 5012, scrap: 37)
    }
}
