import Foundation
import Synchronization

/// One live item for `GET /v1/events`: a UNS event (after deduplication) or, when asked for, a value update.
public struct LiveItem: Sendable, Equatable {
    /// `event` or `value`.
    public var kind: String
    /// The asset path.
    public var asset: String
    /// Short event type (`alarm.raised`) or `value`.
    public var type: String
    /// CloudEvent `type` (`io.shopfloor.alarm.raised.v1`), or `value`.
    public var fullType: String
    /// The event id (SSE `id:`), or `<asset>/<metric>@<ts>` for values.
    public var id: String
    /// The JSON sent as SSE `data:` (the CloudEvent as received, or the value).
    public var json: String
}

/// What a subscriber wants: events at or below `asset`, of `type` (short or full), values too or not.
public struct LiveFilter: Sendable, Equatable {
    public var asset: String?
    public var type: String?
    public var includeValues: Bool

    public init(asset: String? = nil, type: String? = nil, includeValues: Bool = false) {
        self.asset = asset
        self.type = type
        self.includeValues = includeValues
    }

    /// Whether `item` passes.
    public func matches(_ item: LiveItem) -> Bool {
        if item.kind == "value" && !includeValues { return false }
        if let asset, item.asset != asset, !item.asset.hasPrefix(asset + "/") { return false }
        if let type, item.kind == "event", type != item.type, type != item.fullType { return false }
        return true
    }
}

/// Fans live items out to SSE connections. Each subscriber gets its own bounded buffer: a client that reads
/// too slowly loses the oldest items (the dashboard reloads state from the REST endpoints anyway) instead of
/// growing memory without bound.
public final class EventHub: Sendable {
    private struct Subscriber {
        var filter: LiveFilter
        var continuation: AsyncStream<LiveItem>.Continuation
    }

    private let subscribers = Mutex<[UUID: Subscriber]>([:])
    private let finished = Mutex(false)

    public init() {}

    /// A stream of the items matching `filter`, until the consumer stops iterating or the hub closes.
    public func subscribe(_ filter: LiveFilter) -> AsyncStream<LiveItem> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<LiveItem>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        if finished.withLock({ $0 }) {
            continuation.finish()
        } else {
            subscribers.withLock { $0[id] = Subscriber(filter: filter, continuation: continuation) }
        }
        return stream
    }

    /// Sends `item` to every matching subscriber.
    public func publish(_ item: LiveItem) {
        let targets = subscribers.withLock { $0.values.filter { $0.filter.matches(item) }.map(\.continuation) }
        for continuation in targets { continuation.yield(item) }
    }

    /// Number of connected subscribers (for tests and metrics).
    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// Ends every stream (graceful shutdown), so open SSE responses complete.
    public func finishAll() {
        finished.withLock { $0 = true }
        let all = subscribers.withLock { subscribers in
            defer { subscribers = [:] }
            return subscribers.values.map(\.continuation)
        }
        for continuation in all { continuation.finish() }
    }
}
