import Dispatch
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
///
/// Nothing is lost while the api is stopped: the feed has its own MQTT client with a fixed client id and a
/// persistent session (clean start off, a Session Expiry Interval), so the broker queues QoS 1 events meanwhile.
/// Each message is projected inside libmosquitto's `on_message` (a durable handler): the PUBACK leaves only
/// after the event is committed to the store or found to be a duplicate. If the store fails, the handler
/// throws, the client drops the connection unacknowledged and the broker redelivers after the reconnect.
/// Malformed messages are counted and acknowledged (redelivering them cannot help).
public final class UNSFeed: Service {
    /// The feed's own client settings (fixed client id, persistent session); built in `run`.
    let ingest: MQTTConfiguration
    let store: APIStore
    let cache: LatestValueCache
    let hub: EventHub
    let prefix: String
    let logger: Logger
    let flushInterval: Duration
    /// How long deduplication keys are kept; older ones are pruned every `pruneInterval`.
    let dedupWindow: Duration
    let pruneInterval: Duration
    private let knownAssets = KnownAssets()
    private let eventsCounter = Counter(label: "shopfloor_api_uns_events_total")
    private let duplicatesCounter = Counter(label: "shopfloor_api_uns_duplicates_total")
    private let rejectedCounter = Counter(label: "shopfloor_api_uns_rejected_total")
    private let prunedCounter = Counter(label: "shopfloor_api_dedup_pruned_total")
    /// The feed's client while `run` runs (tests look at its connection).
    let client = LockedClient()

    /// `ingest` should be persistent (`MQTTConfiguration.makePersistent`) with a client id of its own.
    public init(ingest: MQTTConfiguration, store: APIStore, cache: LatestValueCache, hub: EventHub, prefix: String,
                logger: Logger, flushInterval: Duration = .milliseconds(500), dedupWindow: Duration = .seconds(7 * 86_400),
                pruneInterval: Duration = .seconds(3600)) {
        self.ingest = ingest
        self.store = store
        self.cache = cache
        self.hub = hub
        self.prefix = prefix
        self.logger = logger
        self.flushInterval = flushInterval
        self.dedupWindow = dedupWindow
        self.pruneInterval = pruneInterval
    }

    public func run() async throws {
        for row in try await store.loadLatestValues() {
            let value = (try? JSONValue(parsing: Data(row.json.utf8))) ?? .null
            cache.warm(asset: row.path, metric: row.metric, value: value, json: row.json, unit: row.unit,
                       quality: row.quality, ts: row.ts)
        }
        let ingestClient = try MQTTClient(configuration: ingest, logger: logger) { [self] message in
            // Durable before acknowledged: the PUBACK leaves only after this returns.
            try handleBeforeAcknowledging(message)
        }
        client.set(ingestClient)
        let filter = "\(prefix)/#"
        // Recorded now and sent on CONNACK, unless the broker resumed the session (it still has it).
        try await ingestClient.subscribe(to: filter, qos: .atLeastOnce)
        ingestClient.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: flushInterval)
                    await flush()
                }
            }
            group.addTask { [self] in
                while !Task.isCancelled {
                    await prune()
                    try? await Task.sleep(for: pruneInterval)
                }
            }
            group.addTask { [logger] in
                for await event in ingestClient.connectionEvents() where event == .connected(sessionPresent: true) {
                    // A resumed session gets the queued events but not the retained values: subscribing again
                    // has the broker send them, so latest values missed while away are refreshed.
                    do {
                        try await ingestClient.subscribe(to: filter, qos: .atLeastOnce)
                    } catch {
                        logger.warning("could not refresh retained values", metadata: ["error": "\(error)"])
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        // A plain DISCONNECT keeps the session (its expiry was set on CONNECT): the broker queues from now on.
        await ingestClient.disconnect()
        // The client's handler holds this feed: let go of the client so neither outlives the run.
        client.set(nil)
        await flush()
        hub.finishAll()
    }

    /// Deletes deduplication keys older than `dedupWindow`.
    func prune() async {
        let cutoff = Millis.now() - Int64(dedupWindow.components.seconds) * 1000
            - dedupWindow.components.attoseconds / 1_000_000_000_000_000
        do {
            let removed = try await store.pruneProcessedEvents(receivedBefore: cutoff)
            if removed > 0 {
                prunedCounter.increment(by: removed)
                logger.debug("pruned deduplication keys", metadata: ["count": "\(removed)"])
            }
        } catch {
            logger.warning("could not prune deduplication keys", metadata: ["error": "\(error)"])
        }
    }

    /// Runs `handle` to completion on the network thread's behalf. Blocking here is the point: libmosquitto
    /// sends the PUBACK when this returns. The work itself runs on the store's own thread (and briefly on the
    /// cooperative pool), never waiting for this thread, so it cannot deadlock.
    func handleBeforeAcknowledging(_ message: MQTTMessage) throws {
        let outcome = HandlerOutcome()
        Task { [self] in
            do {
                try await handle(message)
            } catch {
                outcome.error.withLock { $0 = error }
            }
            outcome.done.signal()
        }
        outcome.done.wait()
        if let error = outcome.error.withLock({ $0 }) { throw error }
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

    /// Projects one UNS message; malformed ones are counted and logged, never fatal. A store failure is
    /// thrown: the message must not be acknowledged.
    func handle(_ message: MQTTMessage) async throws {
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
        } catch let rejection as Rejected {
            rejectedCounter.increment()
            logger.warning("ignored UNS message", metadata: ["topic": "\(message.topic)", "error": "\(rejection.error)"])
        } catch {
            logger.error("UNS message not projected; left unacknowledged for redelivery",
                         metadata: ["topic": "\(message.topic)", "error": "\(error)"])
            throw error
        }
    }

    /// A message that cannot be projected however often it is delivered.
    private struct Rejected: Error {
        let error: any Error
    }

    /// Runs a decoding step; its failure marks the message as malformed rather than the store as failing.
    private func decoding<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw Rejected(error: error)
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
        let parsed = try decoding { try JSONValue(parsing: Data(payload)) }
        guard case .object(let fields) = parsed, let value = fields["value"] else {
            throw Rejected(error: APIError(.badRequest, "value payload is not {\"value\":…,\"unit\":…,\"quality\":…,\"ts\":…}"))
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
        let attributes = try decoding { try CloudEventAttributes.decode(from: data) }
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
            let event = try decoding { try CloudEvent<EquipmentStateChanged>.decode(from: data).data }
            return [("""
                INSERT INTO state_changes (event_id, path, state, previous, reason, since) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (event_id) DO NOTHING
                """, [.text(id), .text(event.asset.description), .text(event.to.rawValue),
                      event.from.map { SQLValue.text($0.rawValue) } ?? .null, event.reason.map(SQLValue.text) ?? .null,
                      .integer(Millis.of(event.since))])]
        case AlarmRaised.eventType:
            let event = try decoding { try CloudEvent<AlarmRaised>.decode(from: data).data }
            return [("""
                INSERT INTO alarms (id, alarm_id, path, metric, severity, threshold, value, message, raised_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                """, [.text(id), .text(event.alarmId), .text(event.asset.description), .text(event.metric),
                      .text(event.severity.rawValue), .real(event.threshold), .real(event.value), .text(event.message),
                      .integer(Millis.of(attributes.time))])]
        case AlarmCleared.eventType:
            let event = try decoding { try CloudEvent<AlarmCleared>.decode(from: data).data }
            return [("""
                UPDATE alarms SET cleared_at = ?, cleared_by = ?, cleared_value = ?
                WHERE alarm_id = ? AND cleared_at IS NULL AND raised_at <= ?
                """, [.integer(Millis.of(attributes.time)), .text(event.clearedBy), event.value.map(SQLValue.real) ?? .null,
                      .text(event.alarmId), .integer(Millis.of(attributes.time))])]
        case ProductionCounted.eventType:
            let event = try decoding { try CloudEvent<ProductionCounted>.decode(from: data).data }
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

/// The result of one `handle` run, handed from its task back to the blocked network thread.
private final class HandlerOutcome: Sendable {
    let done = DispatchSemaphore(value: 0)
    let error = Mutex<(any Error)?>(nil)
}

/// The feed's MQTT client, set when `run` builds it.
final class LockedClient: Sendable {
    private let client = Mutex<MQTTClient?>(nil)

    func set(_ value: MQTTClient?) { client.withLock { $0 = value } }
    var value: MQTTClient? { client.withLock { $0 } }
    /// Whether the feed's client has an accepted connection now.
    var isConnected: Bool { value?.isConnected ?? false }
}

/// Asset paths already in the store, so value messages do not write the tree again.
private final class KnownAssets: Sendable {
    private let paths = Mutex<Set<String>>([])

    /// True when newly inserted.
    func insert(_ path: String) -> Bool { paths.withLock { $0.insert(path).inserted } }
    func remove(_ path: String) { _ = paths.withLock { $0.remove(path) } }
}

