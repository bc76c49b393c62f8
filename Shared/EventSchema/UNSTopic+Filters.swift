/// Subscription filters over the unified namespace.
///
/// A path may stop at any level, so "every event below this line" is not one MQTT filter: `#` would also
/// match values, and `+` matches exactly one level. Each builder therefore returns one filter per depth
/// (path depth … cell), e.g. for the events of line `acme/plant1/press-area/line-1`:
/// `uns/v1/acme/plant1/press-area/line-1/event/+` and `uns/v1/acme/plant1/press-area/line-1/+/event/+`.
/// The filters never overlap (each has a different number of levels), so a message is delivered once.
extension UNSTopic {
    /// Filters for every event at or below `path` (everything when nil), optionally of one short type.
    public static func eventFilters(under path: ISA95Path? = nil, type: String? = nil,
                                    prefix: String = defaultPrefix) throws(EventSchemaError) -> [String] {
        if let type { try TopicSegment.validate(type, what: "event type", rejectReserved: true) }
        try validatePrefix(prefix)
        return filters(under: path, prefix: prefix, tail: "event/\(type ?? "+")")
    }

    /// Filters for every value at or below `path` (everything when nil), optionally of one metric.
    public static func valueFilters(under path: ISA95Path? = nil, metric: String? = nil,
                                    prefix: String = defaultPrefix) throws(EventSchemaError) -> [String] {
        if let metric { try TopicSegment.validateLevels(metric, what: "metric", rejectReserved: true) }
        try validatePrefix(prefix)
        return filters(under: path, prefix: prefix, tail: "value/\(metric ?? "#")")
    }

    /// The filter for the status of every instance of `service` (of every service when nil).
    public static func statusFilter(of service: String? = nil,
                                    prefix: String = defaultPrefix) throws(EventSchemaError) -> String {
        if let service { try TopicSegment.validate(service, what: "service name") }
        try validatePrefix(prefix)
        return "\(prefix)/\(serviceRoot)/\(service ?? "+")/status/+"
    }

    /// One filter per depth from the path's own (2 for everything: enterprise/site) down to a cell.
    private static func filters(under path: ISA95Path?, prefix: String, tail: String) -> [String] {
        let fixed = path?.levels ?? []
        let shallowest = max(fixed.count, 2)
        return (shallowest...5).map { depth in
            let wildcards = Array(repeating: "+", count: depth - fixed.count)
            return ([prefix] + fixed + wildcards + [tail]).joined(separator: "/")
        }
    }
}
