import Sparkplug

/// One edge node: Sparkplug group id and edge node id, unique in the infrastructure (spec item 25).
public struct EdgeNodeID: Hashable, Sendable, CustomStringConvertible {
    public let group: String
    public let edgeNode: String

    public init(group: String, edgeNode: String) {
        self.group = group
        self.edgeNode = edgeNode
    }

    public var description: String { "\(group)/\(edgeNode)" }
}

/// One time series: a metric of an edge node (`device` nil) or of one of its devices.
///
/// The hash of the four strings is computed once, at creation: the loader looks each sample's key up in
/// several dictionaries (series ids, latest values, rules), and hashing four strings each time was a visible
/// share of the ingest cost (bench/stream).
public struct SeriesKey: Hashable, Sendable, CustomStringConvertible {
    public let node: EdgeNodeID
    public let device: String?
    public let metric: String
    private let precomputedHash: Int

    public init(node: EdgeNodeID, device: String?, metric: String) {
        self.node = node
        self.device = device
        self.metric = metric
        var hasher = Hasher()
        hasher.combine(node)
        hasher.combine(device)
        hasher.combine(metric)
        precomputedHash = hasher.finalize()
    }

    public static func == (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        lhs.precomputedHash == rhs.precomputedHash && lhs.metric == rhs.metric && lhs.device == rhs.device
            && lhs.node == rhs.node
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(precomputedHash)
    }

    public var description: String {
        "\(node)/\(device.map { "\($0)/" } ?? "")\(metric)"
    }
}

/// Alarm limits a BIRTH declared for a metric (properties `alarmHigh`, `alarmLow`, `alarmHysteresis`).
public struct AlarmLimits: Sendable, Equatable, Codable {
    public var high: Double?
    public var low: Double?
    /// How far the value must come back inside a limit before the alarm clears, so noise near the limit
    /// does not raise and clear it on every sample.
    public var hysteresis: Double
    /// `low`, `medium`, `high` or `critical` (the `AlarmSeverity` words); `high` when not given.
    public var severity: String?

    public init(high: Double? = nil, low: Double? = nil, hysteresis: Double = 0, severity: String? = nil) {
        self.high = high
        self.low = low
        self.hysteresis = hysteresis
        self.severity = severity
    }
}

/// What a BIRTH says about a series: the metadata the store keeps next to its samples.
public struct SeriesInfo: Sendable, Equatable {
    public var key: SeriesKey
    public var datatype: DataType
    /// Engineering unit (`engUnit` property), when declared.
    public var unit: String?
    /// ISA-95 asset path (`acme/plant1/area/line/cell`) the series belongs to, when known.
    public var assetPath: String?
    /// Alarm limits from the BIRTH's metric properties, when declared.
    public var alarm: AlarmLimits?

    public init(key: SeriesKey, datatype: DataType, unit: String? = nil, assetPath: String? = nil,
                alarm: AlarmLimits? = nil) {
        self.key = key
        self.datatype = datatype
        self.unit = unit
        self.assetPath = assetPath
        self.alarm = alarm
    }
}

/// A stored value: numbers (all integer and float types), booleans and text; everything else is kept as its
/// textual form so nothing a node sends is lost.
public enum SampleValue: Sendable, Equatable {
    case number(Double)
    case boolean(Bool)
    case text(String)
    case null

    /// The value as a number for aggregation and alarms: booleans count as 0/1, text is not a number.
    public var number: Double? {
        switch self {
        case .number(let value): value
        case .boolean(let value): value ? 1 : 0
        case .text, .null: nil
        }
    }

    /// Maps a typed Sparkplug value to a stored value.
    public init(_ value: MetricValue?) {
        switch value {
        case nil: self = .null
        case .int8(let v)?: self = .number(Double(v))
        case .int16(let v)?: self = .number(Double(v))
        case .int32(let v)?: self = .number(Double(v))
        case .int64(let v)?: self = .number(Double(v))
        case .uint8(let v)?: self = .number(Double(v))
        case .uint16(let v)?: self = .number(Double(v))
        case .uint32(let v)?: self = .number(Double(v))
        case .uint64(let v)?: self = .number(Double(v))
        case .float(let v)?: self = .number(Double(v))
        case .double(let v)?: self = .number(v)
        case .dateTime(let v)?: self = .number(Double(v))
        case .boolean(let v)?: self = .boolean(v)
        case .string(let v)?, .text(let v)?, .uuid(let v)?: self = .text(v)
        case let other?: self = .text(String(describing: other))
        }
    }
}

/// Sparkplug quality codes as stored (`Quality` property: 192 good, 0 bad, 500 stale).
public enum SampleQuality: Int32, Sendable, Equatable {
    case bad = 0
    case good = 192
    case stale = 500

    /// The word the UNS value JSON uses.
    public var word: String {
        switch self {
        case .bad: "bad"
        case .good: "good"
        case .stale: "stale"
        }
    }
}

/// One sample of one series; `(series, timestamp)` is its identity, so storing it twice is a no-op.
public struct Sample: Sendable, Equatable {
    public var series: SeriesKey
    /// Acquisition time, milliseconds since the Unix epoch (metric timestamp, else payload timestamp).
    public var timestamp: UInt64
    public var value: SampleValue
    public var quality: SampleQuality

    public init(series: SeriesKey, timestamp: UInt64, value: SampleValue, quality: SampleQuality = .good) {
        self.series = series
        self.timestamp = timestamp
        self.value = value
        self.quality = quality
    }
}
