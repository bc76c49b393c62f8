import Foundation
import Sparkplug
import Testing

/// Payloads written by an independent implementation (pysparkplug 0.6.1 and the Tahu-schema module it
/// ships; see scripts/sparkplug-fixtures/generate.py), checked value by value against manifest.json.
@Suite("Independent-implementation fixtures")
struct FixtureTests {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)

    func load(_ name: String) throws -> [UInt8] {
        let directory = try #require(Self.directory)
        return Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    func manifest() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(load("manifest.json"))) as? [String: Any])
    }

    func record(_ file: String) throws -> [String: Any] {
        let payloads = try #require(try manifest()["payloads"] as? [[String: Any]])
        return try #require(payloads.first { $0["file"] as? String == file })
    }

    /// The manifest's string form of a value (decimal integers, hex IEEE bit patterns, hex bytes).
    func render(_ value: MetricValue?) -> Any {
        func f32(_ v: Float) -> String { "0x" + pad(String(v.bitPattern, radix: 16), 8) }
        func f64(_ v: Double) -> String { "0x" + pad(String(v.bitPattern, radix: 16), 16) }
        func pad(_ s: String, _ n: Int) -> String { String(repeating: "0", count: n - s.count) + s }
        switch value {
        case nil: return NSNull()
        case .int8(let v)?: return "\(v)"
        case .int16(let v)?: return "\(v)"
        case .int32(let v)?: return "\(v)"
        case .int64(let v)?: return "\(v)"
        case .uint8(let v)?: return "\(v)"
        case .uint16(let v)?: return "\(v)"
        case .uint32(let v)?: return "\(v)"
        case .uint64(let v)?, .dateTime(let v)?: return "\(v)"
        case .float(let v)?: return f32(v)
        case .double(let v)?: return f64(v)
        case .boolean(let v)?: return v ? "true" : "false"
        case .string(let v)?, .text(let v)?, .uuid(let v)?: return v
        case .bytes(let v)?, .file(let v)?: return hex(v)
        case .int8Array(let v)?: return v.map { "\($0)" }
        case .int16Array(let v)?: return v.map { "\($0)" }
        case .int32Array(let v)?: return v.map { "\($0)" }
        case .int64Array(let v)?: return v.map { "\($0)" }
        case .uint8Array(let v)?: return v.map { "\($0)" }
        case .uint16Array(let v)?: return v.map { "\($0)" }
        case .uint32Array(let v)?: return v.map { "\($0)" }
        case .uint64Array(let v)?, .dateTimeArray(let v)?: return v.map { "\($0)" }
        case .floatArray(let v)?: return v.map(f32)
        case .doubleArray(let v)?: return v.map(f64)
        case .booleanArray(let v)?: return v.map { $0 ? "true" : "false" }
        case .stringArray(let v)?: return v
        default: return "unsupported in manifest: \(String(describing: value))"
        }
    }

    func canonical(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Compares decoded metrics with the manifest's expectations, name, alias, datatype and value.
    func check(_ metrics: [Metric], against expected: [[String: Any]], _ file: String) {
        #expect(metrics.count == expected.count, "\(file)")
        for (metric, want) in zip(metrics, expected) {
            let label = "\(file) \(want["name"] as? String ?? "?")"
            #expect(metric.name == want["name"] as? String, "\(label)")
            #expect(metric.alias == (want["alias"] as? Int).map(UInt64.init), "\(label)")
            #expect(metric.datatype?.description == want["datatype"] as? String, "\(label)")
            #expect(canonical(render(metric.value)) == canonical(want["value"] ?? NSNull()), "\(label)")
            #expect(metric.isNull == (want["is_null"] as? Bool ?? false), "\(label)")
            #expect(metric.isHistorical == (want["is_historical"] as? Bool ?? false), "\(label)")
        }
    }

    @Test("NBIRTH with every scalar and array type pysparkplug writes")
    func nbirth() throws {
        let want = try record("pysparkplug_nbirth.bin")
        let payload = try Payload(decoding: load("pysparkplug_nbirth.bin"))
        #expect(payload.timestamp.map(String.init) == want["timestamp"] as? String)
        #expect(payload.seq == 0)
        check(payload.metrics, against: try #require(want["metrics"] as? [[String: Any]]), "nbirth")
        let covered = Set(payload.metrics.compactMap(\.datatype))
        #expect(covered.count == 30, "pysparkplug covers 30 of the 34 value types")
    }

    @Test("NDATA by alias without datatypes resolves through the NBIRTH's alias table")
    func ndataAliases() throws {
        let want = try record("pysparkplug_ndata_aliases.bin")
        var table = AliasTable()
        try table.define(birth: try Payload(decoding: load("pysparkplug_nbirth.bin")))
        let data = try Payload(decoding: load("pysparkplug_ndata_aliases.bin"))
        #expect(data.seq == 1)
        #expect(data.metrics.allSatisfy { $0.name == nil && $0.datatype == nil })
        // pysparkplug truncates negative Int8 to the type width (-5 as 0xFB): accepted as -5.
        let resolved = try data.metrics.map { try table.resolve($0) }
        let expected = try #require(want["metrics"] as? [[String: Any]])
        check(resolved, against: expected, "ndata")
    }

    @Test("NDEATH carries bdSeq and no seq; DDEATH carries seq and no metrics")
    func deaths() throws {
        let death = try Payload(decoding: load("pysparkplug_ndeath.bin"))
        #expect(death.seq == nil)
        #expect(death.metrics.first?.name == "bdSeq")
        #expect(death.metrics.first?.value == .int64(7))
        let ddeath = try Payload(decoding: load("pysparkplug_ddeath.bin"))
        #expect(ddeath.seq == 9 && ddeath.metrics.isEmpty && ddeath.timestamp == 1_700_000_000_126)
    }

    @Test("DataSet, Template, PropertySet/List and MetaData written with the Tahu schema")
    func structured() throws {
        let payload = try Payload(decoding: load("tahu_pb2_structured.bin"))
        #expect(payload.metrics.map(\.name) == ["Recipe", "Press/Motor", "Temperature", "Manual"])
        #expect(payload.metrics[0].value == .dataSet(DataSet(
            columns: ["step", "temp", "label"], types: [.int32, .double, .string],
            rows: [[.int32(-1), .double(21.5), .string("warm-up")], [.int32(2), .double(180), .string("bake")]])))
        #expect(payload.metrics[1].value == .template(Template(
            version: "v1", metrics: [Metric(name: "rpm", datatype: .float, value: .float(1450.5))],
            parameters: [.init(name: "poles", value: .uint8(4))], templateRef: "Motor", isDefinition: false)))
        let properties = try #require(payload.metrics[2].properties)
        #expect(payload.metrics[2].value == .double(72.25))
        #expect(properties.engineeringUnit == "°C")
        #expect(properties.quality == .good)
        #expect(properties["limits"]?.value == .propertySetList([
            PropertySet([.init(key: "low", value: .init(.double(0))), .init(key: "high", value: .init(.double(100)))]),
            PropertySet([.init(key: "low", value: .init(.double(-10))), .init(key: "high", value: .init(.double(110)))]),
        ]))
        #expect(payload.metrics[3].value == .file(Array("hello".utf8)))
        #expect(payload.metrics[3].metadata == MetaData(
            isMultiPart: false, contentType: "application/pdf", size: 5, seq: 0, fileName: "manual.pdf",
            fileType: "pdf", md5: "5d41402abc4b2a76b9719d911017c592", description: "operator manual"))
        // Re-encoding through our encoder and decoding again keeps every value.
        #expect(try Payload(decoding: payload.encode()) == payload)
    }

    @Test("STATE JSON as pysparkplug writes it")
    func state() throws {
        let state = try HostState(decoding: load("pysparkplug_state.json"))
        #expect(state == HostState(online: true, timestamp: 1_700_000_000_123))
    }
}
