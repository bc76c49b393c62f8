import Foundation

/// A work order was paused on its asset (it can be started again).
public struct WorkOrderPaused: ShopfloorEvent {
    public static let eventType = "io.shopfloor.workorder.paused.v1"

    /// Unique work order number.
    public var workOrderId: String
    /// Product or material number to make.
    public var product: String
    /// Good parts to make.
    public var quantityTarget: Int
    /// The line or cell that runs it.
    public var asset: ISA95Path
    /// Planned start, when scheduled.
    public var scheduledStart: Date?
    /// Planned end, when scheduled.
    public var scheduledEnd: Date?

    /// Creates the event.
    public init(workOrderId: String, product: String, quantityTarget: Int, asset: ISA95Path,
                scheduledStart: Date? = nil, scheduledEnd: Date? = nil) {
        self.workOrderId = workOrderId
        self.product = product
        self.quantityTarget = quantityTarget
        self.asset = asset
        self.scheduledStart = scheduledStart
        self.scheduledEnd = scheduledEnd
    }

    public static var schema: JSONSchema { .object(WorkOrderSchema.properties) }

    public static var example: WorkOrderPaused {
        WorkOrderPaused(workOrderId: "WO-2026-0042", product: "BRK-4711 brake bracket", quantityTarget: 5000,
                       asset: ExampleValues.line, scheduledStart: ExampleValues.time,
                       scheduledEnd: ExampleValues.time.addingTimeInterval(8 * 3600))
    }
}
