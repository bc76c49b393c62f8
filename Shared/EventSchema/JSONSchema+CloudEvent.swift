/// The schema of a whole CloudEvent envelope carrying one event type.
extension JSONSchema {
    /// A CloudEvent of `type` whose `data` follows `data`, as `CloudEvent.jsonData()` writes it.
    public static func cloudEvent(type: String, data: JSONSchema) -> JSONSchema {
        .object([
            .required("specversion", .string(enum: ["1.0"], "CloudEvents version")),
            .required("id", .string("unique per source; consumers deduplicate on source + id")),
            .required("source", .string(format: "uri-reference", "producer, e.g. /shopfloor/stream/stream-1")),
            .required("type", .string(enum: [type], "versioned event type")),
            .required("time", .dateTime("when it happened, RFC 3339 UTC with milliseconds")),
            .optional("subject", .isa95Path("the asset's ISA-95 path")),
            .optional("datacontenttype", .string(enum: ["application/json"])),
            .optional("correlationid", .string("CloudEvents extension: ties together events with one cause")),
            .required("data", data),
        ], "CloudEvents 1.0 JSON envelope of \(type)")
    }
}
