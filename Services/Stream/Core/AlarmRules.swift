import EventSchema
import Foundation

/// One configured threshold rule: `{"asset":"acme/plant1/area/line-1/press-3","metric":"temperature",
/// "high":85,"low":5,"hysteresis":2,"severity":"critical"}`. Without `asset` it applies to the metric on
/// every asset. A configured rule wins over the limits a BIRTH declares.
public struct AlarmRule: Codable, Sendable, Equatable {
    public var asset: String?
    public var metric: String
    public var high: Double?
    public var low: Double?
    public var hysteresis: Double?
    public var severity: String?

    public init(asset: String? = nil, metric: String, high: Double? = nil, low: Double? = nil,
                hysteresis: Double? = nil, severity: String? = nil) {
        self.asset = asset
        self.metric = metric
        self.high = high
        self.low = low
        self.hysteresis = hysteresis
        self.severity = severity
    }

    var limits: AlarmLimits {
        AlarmLimits(high: high, low: low, hysteresis: hysteresis ?? 0, severity: severity)
    }
}

/// The alarm rules file (`--alarm-rules`): a JSON array of `AlarmRule`.
public enum AlarmRules {
    /// Parses and validates the rules; the error says which rule is wrong and why.
    public static func parse(_ data: Data) throws -> [AlarmRule] {
        let rules: [AlarmRule]
        do {
            rules = try JSONDecoder().decode([AlarmRule].self, from: data)
        } catch {
            throw RuleError(description: "not a JSON array of {\"asset\",\"metric\",\"high\",\"low\",\"hysteresis\","
                + "\"severity\"} rules (\(error))")
        }
        for (index, rule) in rules.enumerated() {
            let label = "rule \(index + 1) (\(rule.asset ?? "*")/\(rule.metric))"
            if let asset = rule.asset, ISA95Path(parsing: asset) == nil {
                throw RuleError(description: "\(label): asset is not an ISA-95 path like acme/plant1/area/line/cell")
            }
            if rule.high == nil && rule.low == nil {
                throw RuleError(description: "\(label): needs \"high\" or \"low\"")
            }
            if let high = rule.high, let low = rule.low, low >= high {
                throw RuleError(description: "\(label): low \(low) is not below high \(high)")
            }
            if (rule.hysteresis ?? 0) < 0 {
                throw RuleError(description: "\(label): hysteresis must not be negative")
            }
            if let severity = rule.severity, AlarmSeverity(rawValue: severity) == nil {
                throw RuleError(description: "\(label): severity \"\(severity)\" is not one of "
                    + AlarmSeverity.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }
        return rules
    }

    /// A rules file that cannot be used.
    struct RuleError: Error, CustomStringConvertible {
        let description: String
    }
}
