import EventSchema
import Foundation

/// Turns a UNS CloudEvent into the sentence rag-index indexes and quotes for live questions, e.g.
/// `2026-11-22T03:10:00Z press-3 (acme/plant1/stamping/line-1/press-3) equipment state changed: from running,
/// to down, reason fault 17 hydraulic pressure low.`
public enum PlantEventText {
    /// Event types worth remembering for "what happened" questions; counts and work orders are left out.
    public static func isRelevant(type: String) -> Bool {
        ["alarm", "state_changed", "fault", "maintenance"].contains { type.contains($0) }
    }

    /// The stored form of an event payload from `topic`, or nil when it is not a relevant CloudEvent.
    public static func event(from payload: [UInt8], topic: String) -> StoredEvent? {
        guard let event = try? CloudEvent<JSONValue>.decode(from: Data(payload)),
              isRelevant(type: event.type) else { return nil }
        let time = RFC3339Text.format(event.time)
        var asset = event.subject ?? ""
        if case .object(let fields) = event.data, case .string(let path)? = fields["asset"] { asset = path }
        if asset.isEmpty {
            // uns/v1/<enterprise>/<site>/…/<cell>/event/<type>: the levels before "event".
            let levels = topic.split(separator: "/")
            if let marker = levels.lastIndex(of: "event") { asset = levels[2..<marker].joined(separator: "/") }
        }
        let name = asset.split(separator: "/").last.map(String.init) ?? asset
        let kind = shortType(event.type)
        let details = describe(event.data)
        let text = "\(time) \(name) (\(asset)) \(kind)" + (details.isEmpty ? "." : ": \(details).")
        return StoredEvent(id: event.id, time: time, type: event.type, subject: asset, text: text)
    }

    /// `io.shopfloor.equipment.state_changed.v1` → `equipment state changed`.
    static func shortType(_ type: String) -> String {
        var parts = type.split(separator: ".").map(String.init)
        if parts.count > 2, parts[0] == "io", parts[1] == "shopfloor" { parts.removeFirst(2) }
        if let last = parts.last, last.hasPrefix("v"), Int(last.dropFirst()) != nil { parts.removeLast() }
        return parts.joined(separator: " ").replacingOccurrences(of: "_", with: " ")
    }

    /// The payload's fields as `key value` phrases, the asset left out (it is already named).
    static func describe(_ value: JSONValue) -> String {
        guard case .object(let fields) = value else { return scalar(value) }
        return fields.keys.sorted().compactMap { key -> String? in
            guard key != "asset", let field = fields[key] else { return nil }
            let text = scalar(field)
            return text.isEmpty ? nil : "\(key.replacingOccurrences(of: "_", with: " ")) \(text)"
        }.joined(separator: ", ")
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .bool(let flag): flag ? "yes" : "no"
        case .integer(let number): "\(number)"
        case .number(let number): "\(number)"
        case .string(let text): text
        case .array(let items): items.map(scalar).joined(separator: " ")
        case .object: describe(value)
        }
    }
}

/// RFC 3339 UTC timestamps with seconds, for event times people read.
enum RFC3339Text {
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
