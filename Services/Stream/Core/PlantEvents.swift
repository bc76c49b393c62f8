import EventSchema
import Foundation

/// A message for the UNS: a retained value or one CloudEvent.
public struct UNSMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var retain: Bool
}

/// Turns stored samples into UNS traffic: the latest value of each series (retained JSON), threshold alarms
/// with hysteresis (`AlarmRaised` / `AlarmCleared`) and machine state changes (`EquipmentStateChanged`).
/// A value without I/O: the loader feeds it samples after they are committed and publishes the result.
public struct PlantEvents: Sendable {
    /// Which side of its limits an active alarm is on.
    enum AlarmSide: String, Sendable { case high, low }

    /// What applies to each series, worked out once per BIRTH instead of once per sample.
    private var rules: [SeriesKey: SeriesRules] = [:]
    private var activeAlarms: [SeriesKey: AlarmSide] = [:]
    private var states: [String: EquipmentState] = [:]
    /// Newest sample per series, to republish it as `stale` when its node or device dies.
    private var last: [SeriesKey: Sample] = [:]
    /// Production counting per asset (cumulative `good` / `scrap` counters → per-window deltas).
    private var production: [String: ProductionWindow] = [:]
    /// Vibration health per asset.
    private var health: [String: VibrationHealth] = [:]
    /// Timestamp of the newest sample each series' rules have seen: a redelivered or replayed sample (same
    /// or older time) must not raise, clear or count anything twice.
    private var evaluated: [SeriesKey: UInt64] = [:]
    /// Length of a production counting window.
    public static let productionWindow: UInt64 = 60_000
    private let prefix: String
    private let source: String
    /// Configured rules by metric name; they win over BIRTH properties.
    private let configuredRules: [String: [AlarmRule]]

    /// `source` is the CloudEvents source (`/shopfloor/stream/<instance>`).
    public init(prefix: String = UNSTopic.defaultPrefix, source: String, alarmRules: [AlarmRule] = []) {
        self.prefix = prefix
        self.source = source
        self.configuredRules = Dictionary(grouping: alarmRules, by: \.metric)
    }

    /// The configured rule for a series (an asset-specific rule before a rule for every asset), else the
    /// BIRTH's limits.
    private func limits(for info: SeriesInfo) -> AlarmLimits? {
        let candidates = configuredRules[info.key.metric] ?? []
        let rule = candidates.first { $0.asset != nil && $0.asset == info.assetPath }
            ?? candidates.first { $0.asset == nil }
        return rule?.limits ?? info.alarm
    }

    /// Learns (or updates) series metadata from BIRTHs.
    public mutating func define(_ series: [SeriesInfo]) {
        for var info in series {
            info.alarm = limits(for: info)
            let path = info.assetPath.flatMap { ISA95Path(parsing: $0) }
            let metric = info.key.metric
            rules[info.key] = SeriesRules(
                info: info, path: path,
                valueTopic: path.flatMap { try? UNSTopic.value(at: $0, metric: metric, prefix: prefix).description },
                counter: Self.counterKind(metric), isVibration: Self.isVibrationMetric(metric),
                isState: Self.isStateMetric(metric))
        }
    }

    /// The UNS messages for samples just stored, in order: every sample feeds the alarm and state rules,
    /// only the newest sample of each series is republished as its value.
    public mutating func messages(for samples: [Sample]) -> [UNSMessage] {
        var latest: [SeriesKey: Sample] = [:]
        var order: [SeriesKey] = []
        var events: [UNSMessage] = []
        for sample in samples {
            if let current = latest[sample.series] {
                if sample.timestamp >= current.timestamp { latest[sample.series] = sample }
            } else {
                latest[sample.series] = sample
                order.append(sample.series)
            }
            if evaluated[sample.series].map({ sample.timestamp > $0 }) ?? true {
                evaluated[sample.series] = sample.timestamp
                events += derive(sample)
            }
        }
        // A redelivered or replayed older sample must not replace a newer retained value.
        let fresh = order.filter { key in
            guard let sample = latest[key] else { return false }
            return sample.timestamp >= (last[key]?.timestamp ?? 0)
        }
        for key in fresh { last[key] = latest[key] }
        return fresh.compactMap { latest[$0].flatMap(value) } + events
    }

    /// Retained values republished as `stale` for series that went offline (Sparkplug: metrics STALE).
    public func staleMessages(for series: [SeriesKey], at: UInt64) -> [UNSMessage] {
        series.compactMap { key in
            var sample = last[key] ?? Sample(series: key, timestamp: at, value: .null)
            sample.quality = .stale
            return value(sample)
        }
    }

    /// The retained value JSON of one sample, when its series has a usable asset path and metric name.
    func value(_ sample: Sample) -> UNSMessage? {
        guard let rule = rules[sample.series], let topic = rule.valueTopic else { return nil }
        let body = UNSValue(value: sample.value, unit: rule.info.unit, quality: sample.quality.word,
                            ts: RFC3339.string(from: Date(milliseconds: sample.timestamp)))
        guard let data = try? JSONEncoder.sorted.encode(body) else { return nil }
        return UNSMessage(topic: topic, payload: Array(data), retain: true)
    }

    private mutating func derive(_ sample: Sample) -> [UNSMessage] {
        guard let rule = rules[sample.series], let path = rule.path else { return [] }
        let info = rule.info
        let pathText = info.assetPath ?? path.description
        let time = Date(milliseconds: sample.timestamp)
        var out: [UNSMessage] = []
        if let limits = info.alarm, let number = sample.value.number, sample.quality == .good {
            out += alarm(sample.series, limits: limits, value: number, path: path, time: time, unit: info.unit)
        }
        if let kind = rule.counter, let number = sample.value.number, sample.quality == .good {
            out += count(kind, value: number, at: sample.timestamp, path: path, key: pathText)
        }
        if rule.isVibration, let number = sample.value.number, sample.quality == .good {
            var tracker = health[pathText] ?? VibrationHealth()
            if let score = tracker.observe(number) {
                out += event(MaintenanceRequired(
                    asset: path, healthScore: score,
                    reason: String(format: "vibration %.0f %% above its baseline %.3g (smoothed %.3g)",
                                   (tracker.smoothed / tracker.baseline - 1) * 100, tracker.baseline, tracker.smoothed),
                    recommendedAction: "inspect bearings, spindle and mounting; plan maintenance"), time: time)
            }
            health[pathText] = tracker
        }
        if rule.isState, let state = Self.equipmentState(sample.value) {
            let previous = states[pathText]
            if previous != state {
                states[pathText] = state
                out += event(EquipmentStateChanged(asset: path, from: previous, to: state, since: time), time: time)
            }
        }
        return out
    }

    /// ISA-18.2 style deadband: raise beyond a limit, clear only once back inside it by the hysteresis.
    private mutating func alarm(_ key: SeriesKey, limits: AlarmLimits, value: Double, path: ISA95Path, time: Date,
                                unit: String?) -> [UNSMessage] {
        let metric = key.metric
        let unitText = unit.map { " \($0)" } ?? ""
        let severity = limits.severity.flatMap(AlarmSeverity.init(rawValue:)) ?? .high
        switch activeAlarms[key] {
        case nil:
            if let high = limits.high, value > high {
                activeAlarms[key] = .high
                return event(AlarmRaised(alarmId: alarmID(path, metric, .high), asset: path, metric: metric,
                                         severity: severity, threshold: high, value: value,
                                         message: "\(metric) \(value)\(unitText) above \(high)\(unitText)"), time: time)
            }
            if let low = limits.low, value < low {
                activeAlarms[key] = .low
                return event(AlarmRaised(alarmId: alarmID(path, metric, .low), asset: path, metric: metric,
                                         severity: severity, threshold: low, value: value,
                                         message: "\(metric) \(value)\(unitText) below \(low)\(unitText)"), time: time)
            }
        case .high?:
            if let high = limits.high, value <= high - limits.hysteresis {
                activeAlarms[key] = nil
                return event(AlarmCleared(alarmId: alarmID(path, metric, .high), asset: path, value: value,
                                          clearedBy: "auto"), time: time)
            }
        case .low?:
            if let low = limits.low, value >= low + limits.hysteresis {
                activeAlarms[key] = nil
                return event(AlarmCleared(alarmId: alarmID(path, metric, .low), asset: path, value: value,
                                          clearedBy: "auto"), time: time)
            }
        }
        return []
    }

    private func alarmID(_ path: ISA95Path, _ metric: String, _ side: AlarmSide) -> String {
        "\(path)/\(metric)/\(side.rawValue)"
    }

    private func event<Event: ShopfloorEvent>(_ event: Event, time: Date) -> [UNSMessage] {
        guard let topic = try? event.topic(prefix: prefix),
              let data = try? event.cloudEvent(source: source, time: time).jsonData() else { return [] }
        return [UNSMessage(topic: topic.description, payload: Array(data), retain: false)]
    }

    /// Adds a counter reading to the asset's production window; a reading in a later window closes the
    /// open one as a `ProductionCounted` event.
    private mutating func count(_ kind: CounterKind, value: Double, at timestamp: UInt64, path: ISA95Path,
                                key: String) -> [UNSMessage] {
        var window = production[key] ?? ProductionWindow()
        var out: [UNSMessage] = []
        let start = timestamp / Self.productionWindow * Self.productionWindow
        if let open = window.start, start > open {
            if window.good + window.scrap > 0 {
                out += event(ProductionCounted(asset: path, good: window.good, scrap: window.scrap,
                                               total: window.good + window.scrap,
                                               windowStart: Date(milliseconds: open),
                                               windowEnd: Date(milliseconds: open + Self.productionWindow)),
                             time: Date(milliseconds: open + Self.productionWindow))
            }
            window.good = 0
            window.scrap = 0
        }
        if window.start.map({ start > $0 }) ?? true { window.start = start }
        window.add(kind, value)
        production[key] = window
        return out
    }

    /// Which production counter a metric is, by name: `good`, `scrap` (or `…/good`, `goodCount`, `Good Parts`).
    static func counterKind(_ name: String) -> CounterKind? {
        let last = name.lowercased().split(separator: "/").last.map(String.init) ?? ""
        if ["good", "goodcount", "good_count", "good parts", "goodparts"].contains(last) { return .good }
        if ["scrap", "scrapcount", "scrap_count", "scrap parts", "reject", "rejects"].contains(last) { return .scrap }
        return nil
    }

    /// A vibration metric: `vibration` or `…/vibration` (any case), e.g. `spindle/vibration`.
    static func isVibrationMetric(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "vibration" || lower.hasSuffix("/vibration")
    }

    /// The state codes of a numeric state register (docs/register-map.md, holding register 40003), the
    /// PackML-like table `simulate` and most cell controllers use: 0 stopped, 1 running, 2 starved, 3 blocked,
    /// 4 setup, 5 down, 6 planned maintenance. A stopped machine without a fault is `idle`.
    static let stateCodes: [Int: EquipmentState] = [
        0: .idle, 1: .running, 2: .starved, 3: .blocked, 4: .setup, 5: .down, 6: .maintenance,
    ]

    /// The state a state tag's value names: an `EquipmentState` word, or a numeric code of `stateCodes`.
    /// Anything else (an unknown code, a bad-quality null) is no state change.
    static func equipmentState(_ value: SampleValue) -> EquipmentState? {
        if case .text(let text) = value { return EquipmentState(rawValue: text.lowercased()) }
        guard let number = value.number, number.rounded() == number, abs(number) < 1_000 else { return nil }
        return stateCodes[Int(number)]
    }

    /// A machine's state tag: `state`, `State` or any `…/state` metric (a state word or a numeric code).
    static func isStateMetric(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "state" || lower.hasSuffix("/state")
    }
}

/// The rules that apply to one series.
struct SeriesRules: Sendable {
    var info: SeriesInfo
    /// nil when the asset path is not a valid ISA-95 path: the series is stored but not on the UNS.
    var path: ISA95Path?
    var valueTopic: String?
    var counter: CounterKind?
    var isVibration: Bool
    var isState: Bool
}

/// The two production counters.
enum CounterKind: Sendable { case good, scrap }

/// One asset's open production window. Machine counters are cumulative; the window sums their increases
/// (a decrease is a counter reset: the new reading counts from zero).
struct ProductionWindow: Sendable {
    var start: UInt64?
    var good = 0
    var scrap = 0
    var lastGood: Double?
    var lastScrap: Double?

    mutating func add(_ kind: CounterKind, _ value: Double) {
        switch kind {
        case .good:
            good += Self.delta(from: lastGood, to: value)
            lastGood = value
        case .scrap:
            scrap += Self.delta(from: lastScrap, to: value)
            lastScrap = value
        }
    }

    static func delta(from previous: Double?, to value: Double) -> Int {
        guard let previous else { return 0 }
        return Int(max(0, value >= previous ? value - previous : value).rounded())
    }
}

/// A health score from a vibration signal: the baseline is the mean of the first `baselineSamples`
/// readings, the trend an exponentially smoothed mean; the score is 100 at the baseline and falls linearly to
/// 0 at twice the baseline. Below `alertScore` a maintenance request is raised once, re-armed above `rearmScore`.
struct VibrationHealth: Sendable {
    static let baselineSamples = 20
    static let smoothing = 0.1
    static let alertScore = 60.0
    static let rearmScore = 80.0

    private var warmup: [Double] = []
    private(set) var baseline = 0.0
    private(set) var smoothed = 0.0
    private var alerted = false

    var score: Double {
        guard baseline > 0 else { return 100 }
        return min(100, max(0, 100 * (2 - smoothed / baseline)))
    }

    /// Feeds one reading; returns the score when it just fell below the alert level.
    mutating func observe(_ value: Double) -> Double? {
        if warmup.count < Self.baselineSamples {
            warmup.append(value)
            if warmup.count == Self.baselineSamples {
                baseline = warmup.reduce(0, +) / Double(warmup.count)
                smoothed = baseline
            }
            return nil
        }
        smoothed += Self.smoothing * (value - smoothed)
        if !alerted && score < Self.alertScore {
            alerted = true
            return (score * 10).rounded() / 10
        }
        if alerted && score > Self.rearmScore { alerted = false }
        return nil
    }
}

/// The retained UNS value JSON: `{"quality":"good","ts":"…","unit":"°C","value":29.4}`.
struct UNSValue: Encodable {
    var value: SampleValue
    var unit: String?
    var quality: String
    var ts: String

    enum CodingKeys: String, CodingKey { case value, unit, quality, ts }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch value {
        case .number(let number) where number.isFinite: try container.encode(number, forKey: .value)
        case .number(let number): try container.encode(String(number), forKey: .value)
        case .boolean(let flag): try container.encode(flag, forKey: .value)
        case .text(let text): try container.encode(text, forKey: .value)
        case .null: try container.encodeNil(forKey: .value)
        }
        try container.encode(unit, forKey: .unit)
        try container.encode(quality, forKey: .quality)
        try container.encode(ts, forKey: .ts)
    }
}

extension JSONEncoder {
    /// Sorted keys: stable bytes for the same value, which keeps retained messages and tests predictable.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension Date {
    /// A Sparkplug timestamp (milliseconds since the Unix epoch, UTC).
    init(milliseconds: UInt64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// Milliseconds since the Unix epoch.
    var milliseconds: UInt64 {
        UInt64(max(0, (timeIntervalSince1970 * 1000).rounded()))
    }
}
