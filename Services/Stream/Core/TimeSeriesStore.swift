import Logging

/// A BIRTH payload as received, kept so a restarted host can resolve the aliases of journaled DATA.
public struct StoredBirth: Sendable, Equatable {
    public var node: EdgeNodeID
    /// nil for the NBIRTH; storing an NBIRTH drops the node's device births (a new session).
    public var device: String?
    public var payload: [UInt8]
    public var receivedAt: UInt64

    public init(node: EdgeNodeID, device: String?, payload: [UInt8], receivedAt: UInt64) {
        self.node = node
        self.device = device
        self.payload = payload
        self.receivedAt = receivedAt
    }
}

/// A message the host could not use, kept with the reason instead of being dropped.
public struct DeadLetter: Sendable, Equatable {
    public var topic: String
    public var reason: String
    public var payload: [UInt8]
    public var receivedAt: UInt64

    public init(topic: String, reason: String, payload: [UInt8], receivedAt: UInt64) {
        self.topic = topic
        self.reason = reason
        self.payload = payload
        self.receivedAt = receivedAt
    }
}

/// Everything one loader batch writes, in one transaction: either all of it is stored or none.
public struct StoreBatch: Sendable {
    public var series: [SeriesInfo] = []
    public var samples: [Sample] = []
    /// In arrival order: an NBIRTH replaces the node's earlier device births.
    public var births: [StoredBirth] = []
    public var deadLetters: [DeadLetter] = []
    /// Series that went STALE, with the time (ms).
    public var stale: [(SeriesKey, UInt64)] = []

    public init() {}

    public var isEmpty: Bool {
        series.isEmpty && samples.isEmpty && births.isEmpty && deadLetters.isEmpty && stale.isEmpty
    }

    /// Every series key the batch touches, in first-seen order, so the store can give each an id.
    var seriesKeys: [SeriesKey] {
        var seen = Set<SeriesKey>()
        var keys: [SeriesKey] = []
        for key in series.map(\.key) + samples.map(\.series) + stale.map(\.0) where seen.insert(key).inserted {
            keys.append(key)
        }
        return keys
    }
}

/// One stored sample as read back.
public struct StoredSample: Sendable, Equatable {
    public var timestamp: UInt64
    public var value: SampleValue
    public var quality: SampleQuality

    public init(timestamp: UInt64, value: SampleValue, quality: SampleQuality) {
        self.timestamp = timestamp
        self.value = value
        self.quality = quality
    }
}

/// Row counts, for tests, metrics and operators.
public struct StoreCounts: Sendable, Equatable {
    public var series: Int
    public var samples: Int
    public var deadLetters: Int
}

/// Where samples live. Writes are idempotent: a sample is identified by (series, timestamp), so a
/// redelivered or replayed message never stores a duplicate.
public protocol TimeSeriesStore: Sendable {
    /// Creates or upgrades the schema.
    func prepare(logger: Logger) async throws
    /// Writes the batch atomically; returns how many samples were new.
    func write(_ batch: StoreBatch) async throws -> Int
    /// Every kept BIRTH, NBIRTHs before DBIRTHs.
    func births() async throws -> [StoredBirth]
    /// Samples of the series at `asset` named `metric` with `from <= ts <= to` (and `ts > after`), oldest
    /// first, at most `limit`.
    func samples(asset: String, metric: String, from: UInt64, to: UInt64, after: UInt64?,
                 limit: Int) async throws -> [StoredSample]
    /// The newest dead letters first.
    func deadLetters(limit: Int) async throws -> [DeadLetter]
    /// Deletes samples older than `timestamp` (ms); returns how many.
    func deleteSamples(before timestamp: UInt64) async throws -> Int
    /// Deletes 1-minute and 1-hour rollups whose bucket starts before `timestamp` (ms); returns how many.
    func deleteRollups(before timestamp: UInt64) async throws -> Int
    /// Rollups of the series at `asset` named `metric` with `from <= bucket <= to`, oldest first.
    func rollups(asset: String, metric: String, width: RollupWidth, from: UInt64, to: UInt64,
                 limit: Int) async throws -> [Rollup]
    /// Periodic upkeep at `now` (ms), before retention runs: PostgreSQL creates the coming days' partitions,
    /// or on a hypertable keeps TimescaleDB's retention policy at `sampleRetention` ms (0: none); SQLite has
    /// nothing to do.
    func maintain(now: UInt64, sampleRetention: UInt64, logger: Logger) async throws
    /// Row counts.
    func counts() async throws -> StoreCounts
    /// Closes the connection.
    func close() async
}

/// The two rollup resolutions `stream` maintains as data arrives.
public enum RollupWidth: Int64, CaseIterable, Sendable {
    case minute = 60_000
    case hour = 3_600_000

    /// The table Grafana and the history service read: `samples_1m`, `samples_1h`.
    public var table: String {
        switch self {
        case .minute: "samples_1m"
        case .hour: "samples_1h"
        }
    }
}

/// One rollup row: the aggregates of a series' numeric, good-quality samples in one bucket.
public struct Rollup: Sendable, Equatable {
    /// Bucket start, ms since the epoch (a multiple of the width).
    public var bucket: UInt64
    public var min: Double
    public var max: Double
    public var avg: Double
    public var count: Int64

    public init(bucket: UInt64, min: Double, max: Double, avg: Double, count: Int64) {
        self.bucket = bucket
        self.min = min
        self.max = max
        self.avg = avg
        self.count = count
    }
}

/// Sums a batch's newly inserted samples per (series, bucket) so the store adds them to the rollup tables in a
/// few upserts instead of one per sample.
///
/// Only numbers of good quality count: booleans, text, nulls, bad values (a gateway's placeholder after a
/// failed read) and non-finite numbers would make a min, max or average meaningless.
struct RollupAccumulator {
    struct Key: Hashable {
        var series: Int64
        var bucket: Int64
    }

    struct Aggregate {
        var min: Double
        var max: Double
        var sum: Double
        var count: Int64
    }

    private(set) var buckets: [RollupWidth: [Key: Aggregate]] = [:]

    var isEmpty: Bool { buckets.values.allSatisfy(\.isEmpty) }

    /// Whether a stored sample with these columns enters the rollups.
    static func counts(kind: SampleKind, number: Double?, quality: SampleQuality) -> Double? {
        guard kind == .number, quality == .good, let number, number.isFinite else { return nil }
        return number
    }

    mutating func add(series: Int64, timestamp: Int64, value: Double) {
        for width in RollupWidth.allCases {
            let key = Key(series: series, bucket: timestamp - timestamp % width.rawValue)
            if let old = buckets[width]?[key] {
                buckets[width]?[key] = Aggregate(min: Swift.min(old.min, value), max: Swift.max(old.max, value),
                                                 sum: old.sum + value, count: old.count + 1)
            } else {
                buckets[width, default: [:]][key] = Aggregate(min: value, max: value, sum: value, count: 1)
            }
        }
    }
}

/// Numeric encoding of a `SampleValue`'s kind in the `kind` column.
enum SampleKind: Int64 {
    case null = 0, number = 1, boolean = 2, text = 3

    static func of(_ value: SampleValue) -> (SampleKind, Double?, String?) {
        switch value {
        case .null: (.null, nil, nil)
        case .number(let number): (.number, number, nil)
        case .boolean(let flag): (.boolean, flag ? 1 : 0, nil)
        case .text(let text): (.text, nil, text)
        }
    }

    static func value(kind: Int64, number: Double?, text: String?) -> SampleValue {
        switch SampleKind(rawValue: kind) {
        case .number?: number.map(SampleValue.number) ?? .null
        case .boolean?: .boolean((number ?? 0) != 0)
        case .text?: text.map(SampleValue.text) ?? .null
        case .null?, nil: .null
        }
    }
}

extension EdgeNodeID {
    /// Births and series store the node's device as '' (not NULL) so the unique keys hold.
    static func deviceColumn(_ device: String?) -> String { device ?? "" }
}
