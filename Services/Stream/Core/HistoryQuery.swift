import EventSchema
import Foundation

/// A malformed or unanswerable history request; the text says what was wrong and what is accepted.
public struct HistoryError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The aggregates a bucketed history answer can carry.
public enum HistoryAggregate: String, CaseIterable, Sendable {
    case min, max, avg, count, last
}

/// A history request on `uns/v1/_svc/stream/history`:
/// `{"asset":"acme/p1/a/l/press-3","metric":"temperature","from":"2026-11-22T08:00:00Z","to":1795335330250,
///   "bucket":"1m","aggregate":["avg","max"],"limit":500,"after":1795335000000}`.
/// `from`/`to` are RFC 3339 strings or Unix milliseconds; `bucket` is `<n>ms|s|m|h|d` or milliseconds;
/// `aggregate` one name or a list (default: all five when `bucket` is set); `after` is the `next` cursor of
/// the previous page.
public struct HistoryQuery: Sendable, Equatable {
    public static let maximumLimit = 10_000
    /// Raw samples a bucketed answer reads at most, so one request cannot exhaust the host.
    public static let maximumScannedSamples = 1_000_000

    public var asset: String
    public var metric: String
    public var from: UInt64
    public var to: UInt64
    public var bucket: UInt64?
    public var aggregates: [HistoryAggregate]
    public var limit: Int
    public var after: UInt64?

    /// Parses and validates the request JSON.
    public init(json bytes: [UInt8]) throws(HistoryError) {
        guard let object = try? JSONValue(parsing: Data(bytes)), case .object(let fields) = object else {
            throw HistoryError("history request is not a JSON object; expected "
                + #"{"asset":"…","metric":"…","from":…,"to":…}"#)
        }
        let known: Set<String> = ["asset", "metric", "from", "to", "bucket", "aggregate", "limit", "after"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw HistoryError("unknown field \"\(unknown)\"; accepted: \(known.sorted().joined(separator: ", "))")
        }
        guard case .string(let asset)? = fields["asset"], ISA95Path(parsing: asset) != nil else {
            throw HistoryError("\"asset\" must be an ISA-95 path string like \"acme/plant1/area/line/cell\", got "
                + Self.show(fields["asset"]))
        }
        guard case .string(let metric)? = fields["metric"], !metric.isEmpty else {
            throw HistoryError("\"metric\" must be a non-empty string, got \(Self.show(fields["metric"]))")
        }
        self.asset = asset
        self.metric = metric
        from = try Self.time(fields["from"], "from")
        to = try Self.time(fields["to"], "to")
        guard from <= to else {
            throw HistoryError("\"from\" (\(from) ms) is after \"to\" (\(to) ms)")
        }
        if let raw = fields["bucket"] {
            bucket = try Self.duration(raw)
        }
        if let raw = fields["aggregate"] {
            guard bucket != nil else { throw HistoryError("\"aggregate\" needs \"bucket\"") }
            let names: [JSONValue] = if case .array(let list) = raw { list } else { [raw] }
            aggregates = try names.map { name throws(HistoryError) in
                guard case .string(let text) = name, let aggregate = HistoryAggregate(rawValue: text) else {
                    throw HistoryError("\"aggregate\" \(Self.show(name)) is not one of "
                        + HistoryAggregate.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return aggregate
            }
            if aggregates.isEmpty { throw HistoryError("\"aggregate\" is an empty list") }
        } else {
            aggregates = bucket == nil ? [] : HistoryAggregate.allCases
        }
        if let raw = fields["limit"] {
            guard let value = Self.whole(raw).flatMap({ Int(exactly: $0) }), (1...Self.maximumLimit).contains(value) else {
                throw HistoryError("\"limit\" must be an integer in 1…\(Self.maximumLimit), got \(Self.show(raw))")
            }
            limit = value
        } else {
            limit = 1_000
        }
        if let raw = fields["after"] {
            guard let value = Self.whole(raw) else {
                throw HistoryError("\"after\" must be the \"next\" cursor (Unix milliseconds) of the previous page, got "
                    + Self.show(raw))
            }
            after = value
        }
    }

    static func time(_ raw: JSONValue?, _ name: String) throws(HistoryError) -> UInt64 {
        guard let raw else {
            throw HistoryError("\"\(name)\" is missing; give an RFC 3339 time or Unix milliseconds")
        }
        if case .string(let text) = raw {
            guard let date = RFC3339.date(from: text), date.timeIntervalSince1970 >= 0 else {
                throw HistoryError("\"\(name)\" \"\(text)\" is not an RFC 3339 time like 2026-11-22T08:15:30Z")
            }
            return date.milliseconds
        }
        if let value = whole(raw) { return value }
        throw HistoryError("\"\(name)\" must be an RFC 3339 string or Unix milliseconds, got \(show(raw))")
    }

    static func duration(_ raw: JSONValue) throws(HistoryError) -> UInt64 {
        let accepted = "a positive duration like \"500ms\", \"10s\", \"1m\", \"1h\", \"1d\" or milliseconds"
        if let value = whole(raw), value > 0 { return value }
        guard case .string(let text) = raw else { throw HistoryError("\"bucket\" must be \(accepted), got \(show(raw))") }
        let units: [(String, UInt64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let count = UInt64(text.dropLast(suffix.count)), count > 0 { return count * factor }
        }
        throw HistoryError("\"bucket\" \"\(text)\" is not \(accepted)")
    }

    /// A non-negative whole JSON number (booleans are not numbers here).
    private static func whole(_ value: JSONValue) -> UInt64? {
        switch value {
        case .integer(let number): UInt64(exactly: number)
        case .number(let number): UInt64(exactly: number)
        default: nil
        }
    }

    private static func show(_ value: JSONValue?) -> String {
        guard let value else { return "nothing" }
        guard let data = try? JSONEncoder.sorted.encode(value) else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Answers history requests from a store.
public struct HistoryService: Sendable {
    let store: any TimeSeriesStore

    public init(store: any TimeSeriesStore) {
        self.store = store
    }

    /// The response JSON for a request JSON; throws `HistoryError` for a bad request.
    public func answer(_ request: [UInt8]) async throws -> [UInt8] {
        let query = try HistoryQuery(json: request)
        let encoder = JSONEncoder.sorted
        if let bucket = query.bucket {
            return Array(try encoder.encode(try await buckets(query, bucket: bucket)))
        }
        let samples = try await store.samples(asset: query.asset, metric: query.metric, from: query.from, to: query.to,
                                              after: query.after, limit: query.limit + 1)
        let page = Array(samples.prefix(query.limit))
        let next = samples.count > query.limit ? page.last?.timestamp : nil
        let response = RawResponse(asset: query.asset, metric: query.metric,
                                   samples: page.map { RawResponse.Point(t: $0.timestamp, ts: RFC3339.string(from: Date(milliseconds: $0.timestamp)),
                                                                         value: $0.value, quality: $0.quality.word) },
                                   next: next)
        return Array(try encoder.encode(response))
    }

    private func buckets(_ query: HistoryQuery, bucket: UInt64) async throws -> BucketResponse {
        var rows: [Bucket] = []
        var cursor = query.after
        var scanned = 0
        var more = false
        // Read in pages; stop as soon as `limit` buckets are complete.
        scan: while true {
            let page = try await store.samples(asset: query.asset, metric: query.metric, from: query.from,
                                               to: query.to, after: cursor, limit: 10_000)
            for sample in page {
                let start = sample.timestamp / bucket * bucket
                if rows.last?.t != start {
                    if rows.count == query.limit { more = true; break scan }
                    rows.append(Bucket(t: start))
                }
                rows[rows.count - 1].add(sample)
            }
            scanned += page.count
            guard page.count == 10_000, let last = page.last else { break }
            guard scanned < HistoryQuery.maximumScannedSamples else {
                throw HistoryError("the range holds more than \(HistoryQuery.maximumScannedSamples) samples; "
                    + "narrow \"from\"/\"to\" or page with a smaller \"limit\"")
            }
            cursor = last.timestamp
        }
        let next = more ? rows.last.map { $0.t + bucket - 1 } : nil
        return BucketResponse(asset: query.asset, metric: query.metric, bucket: bucket,
                              buckets: rows.map { $0.output(query.aggregates) }, next: next)
    }

    /// A page of raw samples.
    struct RawResponse: Encodable {
        /// One sample as the response lists it.
        struct Point: Encodable {
            var t: UInt64
            var ts: String
            var value: SampleValue
            var quality: String

            enum CodingKeys: String, CodingKey { case t, ts, value, quality }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(t, forKey: .t)
                try container.encode(ts, forKey: .ts)
                try container.encode(quality, forKey: .quality)
                switch value {
                case .number(let number) where number.isFinite: try container.encode(number, forKey: .value)
                case .number(let number): try container.encode(String(number), forKey: .value)
                case .boolean(let flag): try container.encode(flag, forKey: .value)
                case .text(let text): try container.encode(text, forKey: .value)
                case .null: try container.encodeNil(forKey: .value)
                }
            }
        }
        var asset: String
        var metric: String
        var samples: [Point]
        var next: UInt64?

        enum CodingKeys: String, CodingKey { case asset, metric, samples, next }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(asset, forKey: .asset)
            try container.encode(metric, forKey: .metric)
            try container.encode(samples, forKey: .samples)
            try container.encode(next, forKey: .next)
        }
    }

    /// One time bucket being aggregated; only numeric samples count.
    struct Bucket {
        var t: UInt64
        var min = Double.infinity
        var max = -Double.infinity
        var sum = 0.0
        var count = 0
        var last: Double?

        init(t: UInt64) { self.t = t }

        mutating func add(_ sample: StoredSample) {
            guard let number = sample.value.number else { return }
            min = Swift.min(min, number)
            max = Swift.max(max, number)
            sum += number
            count += 1
            last = number
        }

        func output(_ aggregates: [HistoryAggregate]) -> [String: BucketValue] {
            var out: [String: BucketValue] = ["t": .integer(t), "start": .text(RFC3339.string(from: Date(milliseconds: t)))]
            for aggregate in aggregates {
                out[aggregate.rawValue] = switch aggregate {
                case .min: count == 0 ? .null : .number(min)
                case .max: count == 0 ? .null : .number(max)
                case .avg: count == 0 ? .null : .number(sum / Double(count))
                case .count: .integer(UInt64(count))
                case .last: last.map(BucketValue.number) ?? .null
                }
            }
            return out
        }
    }

    /// One field of a bucket in the response.
    enum BucketValue: Encodable {
        case integer(UInt64), number(Double), text(String), null

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .integer(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            case .null: try container.encodeNil()
            }
        }
    }

    /// A page of aggregated buckets.
    struct BucketResponse: Encodable {
        var asset: String
        var metric: String
        var bucket: UInt64
        var buckets: [[String: BucketValue]]
        var next: UInt64?

        enum CodingKeys: String, CodingKey { case asset, metric, bucket, buckets, next }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(asset, forKey: .asset)
            try container.encode(metric, forKey: .metric)
            try container.encode(bucket, forKey: .bucket)
            try container.encode(buckets, forKey: .buckets)
            try container.encode(next, forKey: .next)
        }
    }
}
