import EventSchema
import Foundation
import Synchronization

/// The latest value of every metric, in memory: `GET /v1/values` answers from here without touching the
/// store (the hot path of the dashboard and the benchmark). Changes are marked dirty and written to the store
/// in batches by `UNSFeed`, so a restart starts from the last flushed values before the retained messages
/// arrive again.
public final class LatestValueCache: Sendable {
    struct Entry: Sendable {
        var value: LatestValue
        var ts: Int64
        var json: String
    }

    private struct State {
        var byAsset: [String: [String: Entry]] = [:]
        /// Encoded `{"asset":…,"values":[…]}` per asset, rebuilt lazily after a change.
        var encoded: [String: [UInt8]] = [:]
        var dirty: [String: Set<String>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Records a value unless an older sample arrives after a newer one. Returns whether it changed.
    @discardableResult
    func update(asset: String, metric: String, value: JSONValue, json: String, unit: String?, quality: String?,
                ts: Int64) -> Bool {
        state.withLock { state in
            if let existing = state.byAsset[asset]?[metric], existing.ts > ts { return false }
            let latest = LatestValue(asset: asset, metric: metric, value: value, unit: unit, quality: quality,
                                     ts: Millis.text(ts))
            state.byAsset[asset, default: [:]][metric] = Entry(value: latest, ts: ts, json: json)
            state.encoded[asset] = nil
            state.dirty[asset, default: []].insert(metric)
            return true
        }
    }

    /// Loads stored values without marking them dirty.
    func warm(asset: String, metric: String, value: JSONValue, json: String, unit: String?, quality: String?, ts: Int64) {
        state.withLock { state in
            let latest = LatestValue(asset: asset, metric: metric, value: value, unit: unit, quality: quality,
                                     ts: Millis.text(ts))
            state.byAsset[asset, default: [:]][metric] = Entry(value: latest, ts: ts, json: json)
        }
    }

    /// Values of one asset, by metric; nil when the asset has none.
    public func values(of asset: String) -> [LatestValue]? {
        state.withLock { state in
            state.byAsset[asset].map { $0.values.map(\.value).sorted { $0.metric < $1.metric } }
        }
    }

    /// The JSON body of `GET /v1/values?asset=…` for one asset, encoded once per change.
    func encodedValues(of asset: String) -> [UInt8]? {
        if let cached = state.withLock({ $0.encoded[asset] }) { return cached }
        guard let values = values(of: asset) else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(ValuesResponse(asset: asset, values: values)) else { return nil }
        let bytes = Array(data)
        state.withLock { $0.encoded[asset] = bytes }
        return bytes
    }

    /// Values of every asset at or below `prefix`.
    public func values(under prefix: String) -> [LatestValue] {
        state.withLock { state in
            state.byAsset.filter { $0.key == prefix || $0.key.hasPrefix(prefix + "/") }
                .flatMap { $0.value.values.map(\.value) }
                .sorted { ($0.asset, $0.metric) < ($1.asset, $1.metric) }
        }
    }

    /// Takes the changed entries for the store, clearing the dirty marks.
    func takeDirty() -> [(path: String, metric: String, json: String, unit: String?, quality: String?, ts: Int64)] {
        state.withLock { state in
            var out: [(path: String, metric: String, json: String, unit: String?, quality: String?, ts: Int64)] = []
            for (asset, metrics) in state.dirty {
                for metric in metrics {
                    guard let entry = state.byAsset[asset]?[metric] else { continue }
                    out.append((asset, metric, entry.json, entry.value.unit, entry.value.quality, entry.ts))
                }
            }
            state.dirty = [:]
            return out
        }
    }
}

/// `GET /v1/values` response: the latest values of one asset.
public struct ValuesResponse: Codable, Sendable, Equatable {
    public var asset: String
    public var values: [LatestValue]
}
