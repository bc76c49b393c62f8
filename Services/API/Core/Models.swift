import EventSchema
import Foundation

/// Unix milliseconds ↔ RFC 3339 text, the form every time takes in the HTTP API.
enum Millis {
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
    static func of(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func text(_ ms: Int64) -> String { RFC3339.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)) }
    static func text(_ ms: Int64?) -> String? { ms.map { text($0) } }

    /// Parses RFC 3339 or Unix milliseconds.
    static func parse(_ text: String) -> Int64? {
        if let ms = Int64(text) { return ms }
        return RFC3339.date(from: text).map(of)
    }
}

/// One node of the asset tree (ISA-95: enterprise, site, area, line, cell).
public struct AssetNode: Codable, Sendable, Equatable {
    public var path: String
    public var name: String
    public var level: String
    public var children: [AssetNode]

    static func level(depth: Int) -> String {
        ["enterprise", "site", "area", "line", "cell"][min(max(depth, 1), 5) - 1]
    }
}

/// The latest value of one metric, as published retained on its UNS value topic.
public struct LatestValue: Codable, Sendable, Equatable {
    public var asset: String
    public var metric: String
    public var value: JSONValue
    public var unit: String?
    public var quality: String?
    public var ts: String
}

/// A machine's current state.
public struct MachineState: Codable, Sendable, Equatable {
    public var asset: String
    public var state: String
    public var previous: String?
    public var since: String
    public var reason: String?
}

/// One stretch of a machine's state timeline.
public struct StateInterval: Codable, Sendable, Equatable {
    public var state: String?
    public var start: String
    public var end: String
    public var durationSeconds: Double
    public var reasonCode: String?
}

/// An alarm as raised by `stream`, with its clearing and acknowledgement.
public struct Alarm: Codable, Sendable, Equatable {
    /// The CloudEvent id of the `alarm.raised` event: unique per occurrence.
    public var id: String
    /// `stream`'s alarm id (`<asset>/<metric>/high`), shared by every occurrence.
    public var alarmId: String
    public var asset: String
    public var metric: String
    public var severity: String
    public var threshold: Double
    public var value: Double
    public var message: String
    /// `active` until cleared, then `cleared`.
    public var state: String
    public var raisedAt: String
    public var clearedAt: String?
    public var clearedBy: String?
    public var acknowledged: Bool
    public var acknowledgedAt: String?
    public var acknowledgedBy: String?
}

/// A stop of a machine: a non-running state from its change to the next change.
public struct Downtime: Codable, Sendable, Equatable {
    /// The CloudEvent id of the state change that began it.
    public var id: String
    public var asset: String
    public var state: String
    public var start: String
    /// nil while the machine is still in this state.
    public var end: String?
    public var durationSeconds: Double
    /// The reason the machine reported (`stream`'s event), if any.
    public var reason: String?
    /// The operator's classification from the reason tree.
    public var reasonCode: String?
    public var planned: Bool
    public var classifiedBy: String?
    public var classifiedAt: String?
}

/// A product with its ideal cycle time (seconds per part), the basis of OEE performance.
public struct Product: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var idealCycleSeconds: Double
}

/// A work order with its produced quantities (from `production.counted` events attributed to it).
public struct WorkOrder: Codable, Sendable, Equatable {
    public var id: String
    public var product: String
    public var quantityTarget: Int
    public var asset: String
    public var status: WorkOrderStatus
    public var scheduledStart: String?
    public var scheduledEnd: String?
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var completedAt: String?
    public var good: Int
    public var scrap: Int
    public var allowedActions: [WorkOrderAction]
}

/// A user, without the password hash.
public struct User: Codable, Sendable, Equatable {
    public var name: String
    public var role: Role
    public var createdAt: String
}

/// An API token's metadata; the secret itself is shown only in the creation response.
public struct APIToken: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var user: String
    public var createdAt: String
    public var lastUsedAt: String?
}

/// One audit log entry: who changed what.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: String
    public var ts: String
    public var user: String
    public var action: String
    public var target: String
    public var detail: String
}

/// A page of a list: `next` is the URL of the following page, null on the last one.
public struct Page<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    public var limit: Int
    public var offset: Int
    public var nextOffset: Int?
    public var next: String?

    private enum CodingKeys: String, CodingKey { case items, limit, offset, nextOffset, next }

    /// `nextOffset` and `next` are written as `null` on the last page (not left out), so clients can rely on
    /// every member being present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(limit, forKey: .limit)
        try container.encode(offset, forKey: .offset)
        try container.encode(nextOffset, forKey: .nextOffset)
        try container.encode(next, forKey: .next)
    }
}
