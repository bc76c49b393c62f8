import Foundation

/// The verdict of one quality check.
public enum QualityVerdict: String, Codable, Sendable, CaseIterable {
    case pass, fail
}

/// A quality characteristic of a sample was measured.
public struct QualityResultRecorded: ShopfloorEvent {
    public static let eventType = "io.shopfloor.quality.result_recorded.v1"

    /// The sample (part serial, sample number).
    public var sampleId: String
    /// Where the sample was produced.
    public var asset: ISA95Path
    /// What was measured (`bore diameter`).
    public var characteristic: String
    /// The measurement.
    public var value: Double
    /// Its unit (`mm`).
    public var unit: String
    /// Lower specification limit, when there is one.
    public var lowerLimit: Double?
    /// Upper specification limit, when there is one.
    public var upperLimit: Double?
    /// Pass or fail.
    public var result: QualityVerdict
    /// The work order the sample belongs to, when known.
    public var workOrderId: String?

    /// Creates the event.
    public init(sampleId: String, asset: ISA95Path, characteristic: String, value: Double, unit: String,
                lowerLimit: Double? = nil, upperLimit: Double? = nil, result: QualityVerdict,
                workOrderId: String? = nil) {
        self.sampleId = sampleId
        self.asset = asset
        self.characteristic = characteristic
        self.value = value
        self.unit = unit
        self.lowerLimit = lowerLimit
        self.upperLimit = upperLimit
        self.result = result
        self.workOrderId = workOrderId
    }

    public static var schema: JSONSchema {
        .object([
            .required("sampleId", .string()),
            .required("asset", .isa95Path()),
            .required("characteristic", .string("what was measured")),
            .required("value", .number()),
            .required("unit", .string()),
            .optional("lowerLimit", .number("lower specification limit")),
            .optional("upperLimit", .number("upper specification limit")),
            .required("result", .enumeration(QualityVerdict.self)),
            .optional("workOrderId", .string()),
        ])
    }

    public static var example: QualityResultRecorded {
        QualityResultRecorded(sampleId: "S-000731", asset: ExampleValues.press, characteristic: "bore diameter",
                              value: 12.004, unit: "mm", lowerLimit: 11.99, upperLimit: 12.01, result: .pass,
                              workOrderId: "WO-2026-0042")
    }
}
