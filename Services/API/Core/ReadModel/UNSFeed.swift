import EventSchema
import Foundation
import Logging
import MQTT
import Metrics
import ServiceLifecycle
import Synchronization

/// Projects the unified namespace into the api's read models: retained value topics into the latest-value
/// cache (flushed to the store in batches), CloudEvents into the asset tree, state timeline, alarms and
/// production, each event exactly once by (`source`, `id`). Every accepted event is also sent live to SSE
/// subscribers.
public final class UNSFeed: Service {
    let client: MQTTClient
    let store: APIStore
    let cache: LatestValueCache
    let hub: EventHub
    let prefix: String
    let logger: Logger
    let flushInterval: Duration
    private let knownAssets = KnownAssets()
    private let eventsCounter = Counter(label: "shopfloor_api_uns_events_total")
    private let duplicatesCounter = Counter(label: "shopfloor_api_uns_duplicates_total")
    private let rejectedCounter = Counter(label: "shopfloor_api_uns_rejected_total")

    public init(client: MQTTClient, store: APIStore, cache: LatestValueCache, hub: EventHub, prefix: String,
                logger: Logger, flushInterval: Duration = .milliseconds(500)) {
        self.client = client
        self.store = store
        self.cache = cache
        self.hub = hub
        self.prefix = prefix
        self.logger = logger
        self.flushInterval = flushInterval
    }

    public func run() async throws {
        for row in try await store.loadLatestValues() {
            let value = (try? JSONValue(parsing: Data(row.json.utf8))) ?? .null
            cache.warm(asset: row.path, metric: row.metric, value: value, json: row.json, unit: row.unit,
                       quality: row.quality, ts: row.ts)
        }
        try await client.subscribe(to: "\(prefix)/#", qos: .atLeastOnce)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: flushInterval)
                    await flush()
                }
            }
            for await message in client.messages.cancelOnGracefulShutdown() {
                await handle(message)
            }
            group.cancelAll()
        }
        await flush()
        hub.finishAll()
    }

    /// Writes changed latest values to the store.
    func flush() async {
        let dirty = cache.takeDirty()
        guard !dirty.isEmpty else { return }
        do {
            try await store.saveLatestValues(dirty)
        } catch {
            logger.warning("could not save latest values", metadata: ["count": "\(dirty.count)", "error": "\(error)"])
        }
    }

    /// Projects one UNS message; malformed ones are counted and logged, never fatal.
    func handle(_ message: MQTTMessage) async {
        guard let topic = UNSTopic(parsing: message.topic, prefix: prefix) else { return }
        do {
            switch topic.kind {
            case .value(let path, let metric):
                try await handleValue(path: path, metric: metric, payload: message.payload)
            case .event(let path, let type):
                try await handleEvent(path: path, shortType: type, payload: message.payload)
            case .serviceRequest, .serviceStatus:
                return
            }
        } catch {
            rejectedCounter.increment()
            logger.warning("ignored UNS message", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    private func registerOnce(_ path: ISA95Path) async throws {
        guard knownAssets.insert(path.description) else { return }
        do {
            try await store.registerAsset(path)
        } catch {
            knownAssets.remove(path.description)
            throw error
        }
    }

    private func handleValue(path: ISA95Path, metric: String, payload: [UInt8]) async throws {
        // An empty retained payload deletes a retained value: nothing to project.
        guard !payload.isEmpty else { return }
        let parsed = try JSONValue(parsing: Data(payload))
        guard case .object(let fields) = parsed, let value = fields["value"] else {
            throw APIError(.badRequest, "value payload is not {\"value\":…,\"unit\":…,\"quality\":…,\"ts\":…}")
        }
        var ts = Millis.now()
        if case .string(let text)? = fields["ts"], let parsedTS = Millis.parse(text) { ts = parsedTS }
        var unit: String?, quality: String?
        if case .string(let text)? = fields["unit"] { unit = text }
        if case .string(let text)? = fields["quality"] { quality = text }
        try await registerOnce(path)
        let json = String(decoding: (try? JSONEncoder().encode(value)) ?? Data("null".utf8), as: UTF8.self)
        let asset = path.description
        if cache.update(asset: asset, metric: metric, value: value, json: json, unit: unit, quality: quality, ts: ts) {
            if hub.subscriberCount > 0 {
                let live = LatestValue(asset: asset, metric: metric, value: value, unit: unit, quality: quality,
                                       ts: Millis.text(ts))
                let body = String(decoding: (try? JSONEncoder().encode(live)) ?? Data(), as: UTF8.self)
                hub.publish(LiveItem(kind: "value", asset: asset, type: "value", fullType: "value",
                                     id: "\(asset)/\(metric)@\(ts)", json: body))
            }
        }
    }

    private func handleEvent(path: ISA95Path, shortType: String, payload: [UInt8]) async throws {
        let data = Data(payload)
        let attributes = try CloudEventAttributes.decode(from: data)
        try await registerOnce(path)
        let statements = try await projection(of: attributes, data: data)
        let key = "\(attributes.source)|\(attributes.id)"
        guard try await store.apply(eventKey: key, statements: statements) else {
            duplicatesCounter.increment()
            return
        }
        eventsCounter.increment()
        hub.publish(LiveItem(kind: "event", asset: path.description, type: shortType, fullType: attributes.type,
                             id: attributes.id, json: String(decoding: payload, as: UTF8.self)))
    }

    /// The idempotent statements that project one event; unknown types only deduplicate.
    private func projection(of attributes: CloudEventAttributes, data: Data) async throws -> [(String, [SQLValue])] {
        let id = attributes.id
        switch attributes.type {
        case EquipmentStateChanged.eventType:
            let event = try CloudEvent<EquipmentStateChanged>.decode(from: data).data
            return [("""
                INSERT INTO state_changes (event_id, path, state, previous, reason, since) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (event_id) DO NOTHING
                """, [.text(id), .text(event.asset.description), .text(event.to.rawValue),
                      event.from.map { SQLValue.text($0.rawValue) } ?? .null, event.reason.map(SQLValue.text) ?? .null,
                      .integer(Millis.of(event.since))])]
        case AlarmRaised.eventType:
            let event = try CloudEvent<AlarmRaised>.decode(from: data).data
            return [("""
                INSERT INTO alarms (id, alarm_id, path, metric, severity, threshold, value, message, raised_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                """, [.text(id), .text(event.alarmId), .text(event.asset.description), .text(event.metric),
                      .text(event.severity.rawValue), .real(event.threshold), .real(event.value), .text(event.message),
                      .integer(Millis.of(attributes.time))])]
        case AlarmCleared.eventType:
            let event = try CloudEvent<AlarmCleared>.decode(from: data).data
            return [("""
                UPDATE alarms SET cleared_at = ?, cleared_by = ?, cleared_value = ?
                WHERE alarm_id = ? AND cleared_at IS NULL AND raised_at <= ?
                """, [.integer(Millis.of(attributes.time)), .text(event.clearedBy), event.value.map(SQLValue.real) ?? .null,
                      .text(event.alarmId), .integer(Millis.of(attributes.time))])]
        case ProductionCounted.eventType:
            let event = try CloudEvent<ProductionCounted>.decode(from: data).data
            var workOrder = event.workOrderId
            if workOrder == nil { workOrder = try await store.runningWorkOrder(containing: event.asset) }
            return [("""
                INSERT INTO production (event_id, path, good, scrap, total, window_start, window_end, work_order_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING
                """, [.text(id), .text(event.asset.description), .integer(Int64(event.good)), .integer(Int64(event.scrap)),
                      .integer(Int64(event.total)), .integer(Millis.of(event.windowStart)),
                      .integer(Millis.of(event.windowEnd)), workOrder.map(SQLValue.text) ?? .null])]
        default:
            return []
        }
    }
}

/// Asset paths already in the store, so value messages do not write the tree again.
private final class KnownAssets: Sendable {
    private let paths = Mutex<Set<String>>([])

    /// True when newly inserted.
    func insert(_ path: String) -> Bool { paths.withLock { $0.insert(path).inserted } }
    func remove(_ path: String) { _ = paths.withLock { $0.remove(path) } }
}

