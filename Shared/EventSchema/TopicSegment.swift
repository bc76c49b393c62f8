/// Rules shared by every name that becomes one MQTT topic level in the unified namespace.
enum TopicSegment {
    /// Topic levels the namespace itself uses after an ISA-95 path. Reserving them keeps parsing and
    /// subscription filters unambiguous even though a path may stop at any level from site down.
    static let reservedWords: Set<String> = ["value", "event"]

    /// Why `name` cannot be one topic level, or nil when it can: non-empty, no MQTT wildcard (`+`, `#`),
    /// no level separator (`/`), no NUL (MQTT 5 §1.5.4 forbids U+0000 in strings).
    static func problem(with name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.contains("/") { return "contains \"/\"" }
        if name.contains("+") || name.contains("#") { return "contains an MQTT wildcard (+ or #)" }
        if name.contains("\u{0}") { return "contains NUL" }
        return nil
    }

    /// Validates one level of an ISA-95 path: the generic rules, no leading `_` (so `_svc` and future
    /// namespace roots never collide with an enterprise) and none of the reserved words.
    static func validateISA95(_ name: String, level: String) throws(EventSchemaError) {
        if let problem = problem(with: name) {
            throw EventSchemaError(.invalidName, "ISA-95 \(level) name \"\(name)\" \(problem); "
                + "a name is one topic level without /, + or #")
        }
        if name.hasPrefix("_") {
            throw EventSchemaError(.invalidName, "ISA-95 \(level) name \"\(name)\" starts with \"_\", "
                + "which is reserved for namespace roots such as _svc")
        }
        if reservedWords.contains(name) {
            throw EventSchemaError(.invalidName, "ISA-95 \(level) name \"\(name)\" is reserved; "
                + "\"value\" and \"event\" mark the topic kind")
        }
    }

    /// Validates a generic single-level name (event type, service, verb, instance); with
    /// `rejectReserved`, `value` and `event` are refused too.
    static func validate(_ name: String, what: String, rejectReserved: Bool = false) throws(EventSchemaError) {
        if let problem = problem(with: name) {
            throw EventSchemaError(.invalidName, "\(what) \"\(name)\" \(problem); "
                + "it must be one topic level without /, + or #")
        }
        if rejectReserved && reservedWords.contains(name) {
            throw EventSchemaError(.invalidName, "\(what) \"\(name)\" is reserved; "
                + "\"value\" and \"event\" mark the topic kind")
        }
    }

    /// Validates a name that may span several levels (a prefix, a metric with folders): every level
    /// follows the generic rules; with `rejectReserved`, no level is `value` or `event` (a metric level
    /// named `event` would make `…/+/event/+` filters match value topics).
    static func validateLevels(_ name: String, what: String, rejectReserved: Bool) throws(EventSchemaError) {
        let levels = name.split(separator: "/", omittingEmptySubsequences: false)
        for level in levels {
            if let problem = problem(with: String(level)) {
                throw EventSchemaError(.invalidName, "\(what) \"\(name)\": level \"\(level)\" \(problem); "
                    + "levels are separated by single / and contain no + or #")
            }
            if rejectReserved && reservedWords.contains(String(level)) {
                throw EventSchemaError(.invalidName, "\(what) \"\(name)\": level \"\(level)\" is reserved; "
                    + "\"value\" and \"event\" mark the topic kind")
            }
        }
    }
}
