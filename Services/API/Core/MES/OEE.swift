import EventSchema
import Foundation

/// One stretch of a machine's time in one state, clipped to the range asked about.
public struct StateSpan: Sendable, Equatable {
    /// nil: no state known yet (before the first state change the api saw).
    public var state: EquipmentState?
    public var start: Int64
    public var end: Int64
    /// The operator's classification of this stop, when there is one.
    public var reasonCode: String?
    /// The classification marks it planned (a break, planned maintenance): not part of planned busy time.
    public var plannedByReason: Bool

    public init(state: EquipmentState?, start: Int64, end: Int64, reasonCode: String? = nil, plannedByReason: Bool = false) {
        self.state = state
        self.start = start
        self.end = end
        self.reasonCode = reasonCode
        self.plannedByReason = plannedByReason
    }

    var seconds: Double { Double(max(0, end - start)) / 1000 }
}

/// Parts counted in one window, with the ideal cycle time of the product made then (when known).
public struct ProductionSlice: Sendable, Equatable {
    public var good: Int
    public var scrap: Int
    public var idealCycleSeconds: Double?

    public init(good: Int, scrap: Int, idealCycleSeconds: Double?) {
        self.good = good
        self.scrap = scrap
        self.idealCycleSeconds = idealCycleSeconds
    }
}

/// OEE of one machine or an aggregate, after ISO 22400-2:
/// - availability = APT / PBT (actual production time = time `running`; planned busy time = known time minus
///   planned downtime: `maintenance` and stops classified with a planned reason);
/// - performance = ideal cycle time × produced / APT;
/// - quality = good / produced;
/// - OEE = availability × performance × quality.
/// A ratio is null when its denominator is zero (or no ideal cycle time is known), and so is OEE then.
public struct OEEFigures: Sendable, Equatable, Codable {
    public var availability: Double?
    public var performance: Double?
    public var quality: Double?
    public var oee: Double?
    public var plannedBusySeconds: Double
    public var runSeconds: Double
    public var plannedDowntimeSeconds: Double
    /// Time before the first state the api knows: neither busy nor planned down.
    public var unknownSeconds: Double
    public var produced: Int
    public var good: Int
    public var scrap: Int
    /// Σ ideal cycle time × parts, over parts whose product's ideal cycle time is known.
    public var idealProductionSeconds: Double
    /// Parts counted without a known ideal cycle time (no work order, or a product without one).
    public var producedWithoutIdealCycle: Int
    public var losses: OEELosses
}

/// Where the planned busy time went, in seconds (ISO 22400 loss view).
public struct OEELosses: Sendable, Equatable, Codable {
    /// PBT − APT: unplanned stops.
    public var availabilitySeconds: Double
    /// Availability loss per state (`down`, `idle`, `starved`, `blocked`, `setup`, `offline`).
    public var byState: [String: Double]
    /// Availability loss per operator reason code; `unclassified` for stops nobody classified.
    public var byReason: [String: Double]
    /// APT − ideal production time (of parts with a known ideal cycle time): slow cycles and small stops.
    public var performanceSeconds: Double?
    /// Ideal cycle time × scrapped parts: time spent making scrap.
    public var qualitySeconds: Double
}

/// The OEE arithmetic, free of I/O so hand-computed cases test it directly.
public enum OEECalculator {
    /// Figures for one machine or a group: spans and slices of every machine together (sums, then ratios).
    public static func compute(spans: [StateSpan], production: [ProductionSlice]) -> OEEFigures {
        var run = 0.0, planned = 0.0, unknown = 0.0
        var byState: [String: Double] = [:], byReason: [String: Double] = [:]
        for span in spans {
            let seconds = span.seconds
            guard seconds > 0 else { continue }
            guard let state = span.state else { unknown += seconds; continue }
            if state == .running { run += seconds; continue }
            if state == .maintenance || span.plannedByReason { planned += seconds; continue }
            byState[state.rawValue, default: 0] += seconds
            byReason[span.reasonCode ?? "unclassified", default: 0] += seconds
        }
        let unplanned = byState.values.reduce(0, +)
        let busy = run + unplanned
        var good = 0, scrap = 0, withoutIdeal = 0
        var ideal = 0.0, idealScrap = 0.0, idealKnownParts = 0
        for slice in production {
            good += slice.good
            scrap += slice.scrap
            if let cycle = slice.idealCycleSeconds, cycle > 0 {
                ideal += cycle * Double(slice.good + slice.scrap)
                idealScrap += cycle * Double(slice.scrap)
                idealKnownParts += slice.good + slice.scrap
            } else {
                withoutIdeal += slice.good + slice.scrap
            }
        }
        let produced = good + scrap
        let availability = busy > 0 ? run / busy : nil
        let performance = run > 0 && idealKnownParts > 0 ? ideal / run : nil
        let quality = produced > 0 ? Double(good) / Double(produced) : nil
        var oee: Double?
        if let availability, let performance, let quality { oee = availability * performance * quality }
        return OEEFigures(
            availability: availability, performance: performance, quality: quality, oee: oee,
            plannedBusySeconds: busy, runSeconds: run, plannedDowntimeSeconds: planned, unknownSeconds: unknown,
            produced: produced, good: good, scrap: scrap, idealProductionSeconds: ideal,
            producedWithoutIdealCycle: withoutIdeal,
            losses: OEELosses(availabilitySeconds: unplanned, byState: byState, byReason: byReason,
                              performanceSeconds: idealKnownParts > 0 ? run - ideal : nil,
                              qualitySeconds: idealScrap))
    }

    /// A machine's state changes (any order) turned into spans covering `[from, to)`: the state in force at
    /// `from` is the last change at or before it; before the first change the state is unknown.
    public static func spans(changes: [(since: Int64, state: EquipmentState, reasonCode: String?, planned: Bool)],
                             from: Int64, to: Int64) -> [StateSpan] {
        guard to > from else { return [] }
        let sorted = changes.sorted { $0.since < $1.since }
        var spans: [StateSpan] = []
        var cursor = from
        var current: StateSpan? = nil
        for change in sorted {
            if change.since <= from {
                current = StateSpan(state: change.state, start: from, end: from, reasonCode: change.reasonCode,
                                    plannedByReason: change.planned)
                continue
            }
            if change.since >= to { break }
            var previous = current ?? StateSpan(state: nil, start: cursor, end: cursor)
            previous.start = cursor
            previous.end = change.since
            spans.append(previous)
            cursor = change.since
            current = StateSpan(state: change.state, start: cursor, end: cursor, reasonCode: change.reasonCode,
                                plannedByReason: change.planned)
        }
        var last = current ?? StateSpan(state: nil, start: cursor, end: cursor)
        last.start = cursor
        last.end = to
        spans.append(last)
        return spans.filter { $0.end > $0.start }
    }
}
