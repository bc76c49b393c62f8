/// A topic of the unified namespace (UNS), the JSON half of Shopfloor's MQTT traffic.
///
/// Layout, under a configurable prefix of one or more levels (default `uns/v1`):
/// - `<prefix>/<isa95 path>/value/<metric>`: latest value of a metric, retained; the metric may have
///   folders (`spindle/temperature`).
/// - `<prefix>/<isa95 path>/event/<type>`: one CloudEvent; `<type>` is the event's short type
///   (`alarm.raised`), the version lives in the envelope's `type`.
/// - `<prefix>/_svc/<service>/<verb>`: MQTT v5 request/response endpoint (`stream/history`, `rag-index/ask`).
/// - `<prefix>/_svc/<service>/status/<instance>`: retained service status.
///
/// The path may stop at any level from site down. Parsing is unambiguous because ISA-95 names cannot
/// start with `_` nor be `value`/`event`, and metric levels and event types cannot be `value`/`event`.
public struct UNSTopic: Sendable, Hashable, CustomStringConvertible {
    /// The prefix used when none is configured.
    public static let defaultPrefix = "uns/v1"
    /// The first level after the prefix that marks service topics; ISA-95 names cannot start with `_`.
    public static let serviceRoot = "_svc"

    /// What the topic carries.
    public enum Kind: Sendable, Hashable {
        /// The latest value of `metric` of the asset at the path.
        case value(ISA95Path, metric: String)
        /// Events of short type `type` emitted by the asset at the path.
        case event(ISA95Path, type: String)
        /// Requests to `service` for `verb` (MQTT v5 request/response).
        case serviceRequest(service: String, verb: String)
        /// The retained status of one instance of `service`.
        case serviceStatus(service: String, instance: String)
    }

    /// The namespace root, one or more levels, without leading or trailing `/`.
    public let prefix: String
    /// The kind and its names.
    public let kind: Kind

    /// Creates a topic, validating the prefix and every name.
    public init(_ kind: Kind, prefix: String = UNSTopic.defaultPrefix) throws(EventSchemaError) {
        try Self.validatePrefix(prefix)
        switch kind {
        case .value(_, let metric):
            try TopicSegment.validateLevels(metric, what: "metric", rejectReserved: true)
        case .event(_, let type):
            try TopicSegment.validate(type, what: "event type", rejectReserved: true)
        case .serviceRequest(let service, let verb):
            try TopicSegment.validate(service, what: "service name")
            try TopicSegment.validate(verb, what: "service verb")
            if verb == "status" {
                throw EventSchemaError(.invalidName, "service verb \"status\" is reserved for "
                    + "<prefix>/_svc/<service>/status/<instance>")
            }
        case .serviceStatus(let service, let instance):
            try TopicSegment.validate(service, what: "service name")
            try TopicSegment.validate(instance, what: "service instance")
        }
        self.prefix = prefix
        self.kind = kind
    }

    /// The value topic of `metric` at `path`.
    public static func value(at path: ISA95Path, metric: String,
                             prefix: String = defaultPrefix) throws(EventSchemaError) -> UNSTopic {
        try UNSTopic(.value(path, metric: metric), prefix: prefix)
    }

    /// The event topic of short type `type` at `path`.
    public static func event(at path: ISA95Path, type: String,
                             prefix: String = defaultPrefix) throws(EventSchemaError) -> UNSTopic {
        try UNSTopic(.event(path, type: type), prefix: prefix)
    }

    /// The request topic of `service`'s `verb`, e.g. `uns/v1/_svc/stream/history`.
    public static func service(_ service: String, verb: String,
                               prefix: String = defaultPrefix) throws(EventSchemaError) -> UNSTopic {
        try UNSTopic(.serviceRequest(service: service, verb: verb), prefix: prefix)
    }

    /// The retained status topic of one instance of `service`.
    public static func status(of service: String, instance: String,
                              prefix: String = defaultPrefix) throws(EventSchemaError) -> UNSTopic {
        try UNSTopic(.serviceStatus(service: service, instance: instance), prefix: prefix)
    }

    /// The ISA-95 path of a value or event topic; nil for service topics.
    public var path: ISA95Path? {
        switch kind {
        case .value(let path, _), .event(let path, _): path
        case .serviceRequest, .serviceStatus: nil
        }
    }

    public var description: String {
        switch kind {
        case .value(let path, let metric): "\(prefix)/\(path)/value/\(metric)"
        case .event(let path, let type): "\(prefix)/\(path)/event/\(type)"
        case .serviceRequest(let service, let verb): "\(prefix)/\(Self.serviceRoot)/\(service)/\(verb)"
        case .serviceStatus(let service, let instance):
            "\(prefix)/\(Self.serviceRoot)/\(service)/status/\(instance)"
        }
    }

    /// Parses a topic received under `prefix`; nil when it is not a valid UNS topic.
    public init?(parsing topic: String, prefix: String = UNSTopic.defaultPrefix) {
        guard let parsed = try? Self.parse(topic, prefix: prefix) else { return nil }
        self = parsed
    }

    /// Parses like `init?(parsing:prefix:)`, throwing an error that says what is wrong.
    public static func parse(_ topic: String, prefix: String = defaultPrefix) throws(EventSchemaError) -> UNSTopic {
        try validatePrefix(prefix)
        guard topic.hasPrefix(prefix + "/") else {
            throw EventSchemaError(.invalidName, "topic \"\(topic)\" is not under the prefix \"\(prefix)/\"")
        }
        let rest = topic.dropFirst(prefix.count + 1)
            .split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if rest.first == serviceRoot {
            return try parseService(Array(rest.dropFirst()), topic: topic, prefix: prefix)
        }
        // The kind marker is the first reserved word; ISA-95 names cannot be one, so this is exact.
        guard let marker = rest.firstIndex(where: { TopicSegment.reservedWords.contains($0) }),
              marker + 1 < rest.count else {
            throw EventSchemaError(.invalidName, "topic \"\(topic)\" has no \"value/<metric>\" or "
                + "\"event/<type>\" after its ISA-95 path")
        }
        let path = try ISA95Path(levels: Array(rest[..<marker]))
        let tail = rest[(marker + 1)...]
        if rest[marker] == "event" {
            guard tail.count == 1, let type = tail.first else {
                throw EventSchemaError(.invalidName, "topic \"\(topic)\": an event type is one level, "
                    + "got \"\(tail.joined(separator: "/"))\"")
            }
            return try UNSTopic(.event(path, type: type), prefix: prefix)
        }
        return try UNSTopic(.value(path, metric: tail.joined(separator: "/")), prefix: prefix)
    }

    /// Parses the levels after `<prefix>/_svc`.
    private static func parseService(_ levels: [String], topic: String,
                                     prefix: String) throws(EventSchemaError) -> UNSTopic {
        switch levels.count {
        case 2:
            return try UNSTopic(.serviceRequest(service: levels[0], verb: levels[1]), prefix: prefix)
        case 3 where levels[1] == "status":
            return try UNSTopic(.serviceStatus(service: levels[0], instance: levels[2]), prefix: prefix)
        default:
            throw EventSchemaError(.invalidName, "service topic \"\(topic)\" must be "
                + "\(prefix)/_svc/<service>/<verb> or \(prefix)/_svc/<service>/status/<instance>")
        }
    }

    /// Validates a prefix: one or more non-empty levels without wildcards, not starting with `$`
    /// (MQTT reserves `$` topics for the broker, and `$share/…` would turn a filter into a shared one).
    static func validatePrefix(_ prefix: String) throws(EventSchemaError) {
        try TopicSegment.validateLevels(prefix, what: "UNS prefix", rejectReserved: false)
        if prefix.hasPrefix("$") {
            throw EventSchemaError(.invalidName, "UNS prefix \"\(prefix)\" starts with \"$\", "
                + "which MQTT reserves for broker topics")
        }
    }
}
