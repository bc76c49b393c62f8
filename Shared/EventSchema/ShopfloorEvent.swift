import Foundation

/// An event type of the Shopfloor UNS: a `Codable` value carried as the `data` of a CloudEvent.
///
/// The type name is versioned (`io.shopfloor.alarm.raised.v1`): a change that would break a consumer
/// (see `JSONSchema.breakingChanges(from:)`) gets a new type (`…v2`) instead.
public protocol ShopfloorEvent: Codable, Sendable, Equatable {
    /// The CloudEvents `type`, `io.shopfloor.<domain>.<occurrence>.v<N>`.
    static var eventType: String { get }
    /// The JSON Schema of `data`, matching what the synthesized `Codable` conformance writes.
    static var schema: JSONSchema { get }
    /// A realistic instance, used for documentation and schema tests.
    static var example: Self { get }
    /// The asset the event is about; it decides the UNS topic and the CloudEvents `subject`.
    var asset: ISA95Path { get }
}

extension ShopfloorEvent {
    /// The type without `io.shopfloor.` and the version, the last level of the event's topic
    /// (`alarm.raised`). The version stays out of the topic so a v2 does not move subscribers.
    public static var shortType: String {
        var parts = eventType.split(separator: ".").map(String.init)
        if parts.count > 2, parts[0] == "io", parts[1] == "shopfloor" { parts.removeFirst(2) }
        if let last = parts.last, last.hasPrefix("v"), Int(last.dropFirst()) != nil { parts.removeLast() }
        return parts.joined(separator: ".")
    }

    /// The topic this event is published on: `<prefix>/<asset path>/event/<short type>`.
    public func topic(prefix: String = UNSTopic.defaultPrefix) throws(EventSchemaError) -> UNSTopic {
        try UNSTopic.event(at: asset, type: Self.shortType, prefix: prefix)
    }

    /// Wraps the event in its CloudEvent envelope; `subject` is the asset path.
    public func cloudEvent(source: String, id: String = UUID().uuidString.lowercased(), time: Date = Date(),
                           correlationID: String? = nil) -> CloudEvent<Self> {
        CloudEvent(id: id, source: source, type: Self.eventType, time: time, subject: asset.description,
                   correlationID: correlationID, data: self)
    }

    /// The JSON Schema of the whole CloudEvent carrying this type, as committed in `docs/schemas/`.
    public static var envelopeSchema: JSONSchema { .cloudEvent(type: eventType, data: schema) }
}

/// Every event type Shopfloor publishes. Schema export writes one file per entry and the compatibility
/// test fails when a committed schema's type is missing here.
public enum EventRegistry {
    /// All registered event types.
    public static let all: [any ShopfloorEvent.Type] = [
        EquipmentStateChanged.self,
        AlarmRaised.self,
        AlarmCleared.self,
        MaintenanceRequired.self,
        ProductionCounted.self,
        WorkOrderCreated.self,
        WorkOrderReleased.self,
        WorkOrderStarted.self,
        WorkOrderCompleted.self,
        WorkOrderPaused.self,
        WorkOrderCancelled.self,
        QualityResultRecorded.self,
        FaultInjected.self,
    ]

    /// The registered type named `eventType`, if any.
    public static func type(named eventType: String) -> (any ShopfloorEvent.Type)? {
        all.first { $0.eventType == eventType }
    }
}
