import Foundation

/// The members every work-order event carries, so a consumer can project any one of them alone.
enum WorkOrderSchema {
    /// Schema of the shared members, in declaration order.
    static let properties: [JSONSchema.Property] = [
        .required("workOrderId", .string("unique work order number, e.g. from the ERP")),
        .required("product", .string("product or material number to make")),
        .required("quantityTarget", .integer(minimum: 0, "good parts to make")),
        .required("asset", .isa95Path("the line or cell that runs it")),
        .optional("scheduledStart", .dateTime()),
        .optional("scheduledEnd", .dateTime()),
    ]
}
