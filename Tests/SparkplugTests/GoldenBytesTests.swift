import Sparkplug
import Testing

/// Expected bytes come from Google's protobuf runtime serialising the Tahu schema that the PyPI
/// package pysparkplug 0.6.1 ships (not from our encoder): one metric named "m" per case.
let goldenCases: [(MetricValue, String)] = [
        (.int8(-1),
         "120b0a016d200150ffffffff0f"),
        (.int16(-2),
         "120b0a016d200250feffffff0f"),
        (.int32(.min),
         "120b0a016d2003508080808008"),
        (.int64(-1),
         "12100a016d200458ffffffffffffffffff01"),
        (.uint8(255),
         "12080a016d200550ff01"),
        (.uint16(65535),
         "12090a016d200650ffff03"),
        (.uint32(.max),
         "120b0a016d200750ffffffff0f"),
        (.uint64(.max),
         "12100a016d200858ffffffffffffffffff01"),
        (.float(1.5),
         "120a0a016d2009650000c03f"),
        (.double(-2.25),
         "120e0a016d200a6900000000000002c0"),
        (.boolean(true),
         "12070a016d200b7001"),
        (.string("héllo"),
         "120d0a016d200c7a0668c3a96c6c6f"),
        (.dateTime(1_700_000_000_000),
         "120c0a016d200d5880d095ffbc31"),
        (.text("a\nb"),
         "120a0a016d200e7a03610a62"),
        (.uuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
         "122b0a016d200f7a2433663235303465302d346638392d313164332d396130632d303330356538326333333031"),
        (.dataSet(DataSet(columns: ["a", "b"], types: [.int8, .string], rows: [[.int8(-1), .string("x")], [nil, .string("y")]])),
         "122c0a016d20108a012408021201611201621801180c220d0a0608ffffffff0f0a0332017822070a000a03320179"),
        (.bytes([0, 1, 255]),
         "120b0a016d20118201030001ff"),
        (.file([0x25, 0x50]),
         "120a0a016d20128201022550"),
        (.template(Template(version: "1", metrics: [Metric(name: "rpm", datatype: .float, value: .float(2.5))], parameters: [.init(name: "p", value: .uint16(7))], isDefinition: true)),
         "12240a016d201392011c0a0131120c0a0372706d200965000020401a070a0170100618072801"),
        (.template(Template(metrics: [Metric(name: "rpm", datatype: .float, value: .float(3))], templateRef: "Motor", isDefinition: false)),
         "121f0a016d2013920117120c0a0372706d2009650000404022054d6f746f722800"),
        (.int8Array([-1, 2]),
         "120a0a016d2016820102ff02"),
        (.int16Array([-2, 3]),
         "120c0a016d2017820104feff0300"),
        (.int32Array([1, -1]),
         "12100a016d201882010801000000ffffffff"),
        (.int64Array([-2]),
         "12100a016d2019820108feffffffffffffff"),
        (.uint8Array([1, 255]),
         "120a0a016d201a82010201ff"),
        (.uint16Array([258]),
         "120a0a016d201b8201020201"),
        (.uint32Array([1, .max]),
         "12100a016d201c82010801000000ffffffff"),
        (.uint64Array([1 << 40]),
         "12100a016d201d8201080000000000010000"),
        (.floatArray([1, -2]),
         "12100a016d201e8201080000803f000000c0"),
        (.doubleArray([0.5]),
         "12100a016d201f820108000000000000e03f"),
        (.booleanArray([true, false, true, true, false, false, false, false, true]),
         "120e0a016d202082010609000000b080"),
        (.stringArray(["ab", "", "ü"]),
         "120f0a016d202182010761620000c3bc00"),
        (.dateTimeArray([1_700_000_000_000, 1]),
         "12180a016d20228201100068e5cf8b0100000100000000000000"),
]

/// Hex string -> bytes (test input only, so a bad literal may trap).
func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

/// Bytes -> lower-case hex, for readable failures.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

@Suite("Golden bytes")
struct GoldenBytesTests {
    @Test("every DataType encodes to the bytes another implementation writes, and decodes back",
          arguments: goldenCases)
    func roundTrip(value: MetricValue, expected: String) throws {
        let payload = Payload(metrics: [Metric(name: "m", datatype: value.datatype, value: value)])
        #expect(hex(try payload.encode()) == expected)
        #expect(try Payload(decoding: bytes(expected)) == payload)
    }

    @Test("golden cases cover every DataType that a metric value can have")
    func coverage() {
        let covered = Set(goldenCases.compactMap { $0.0.datatype })
        let metricTypes = Set(DataType.allCases).subtracting([.unknown, .propertySet, .propertySetList])
        #expect(covered == metricTypes)
    }

    @Test("payload fields, metadata, flags, nested property sets and property set lists, null values")
    func fullPayload() throws {
        var properties = PropertySet()
        properties.engineeringUnit = "°C"
        properties.quality = .good
        properties["limits"] = PropertyValue(.propertySet(PropertySet([.init(key: "low", value: .init(.double(0)))])))
        properties["ranges"] = PropertyValue(.propertySetList([PropertySet([.init(key: "a", value: .init(.int64(-1)))])]))
        properties["note"] = PropertyValue(datatype: .string, value: nil)
        let metadata = MetaData(isMultiPart: false, contentType: "text/plain", size: 3, seq: 1, fileName: "a.txt",
                                fileType: "txt", md5: "x", description: "d")
        let payload = Payload(
            timestamp: 1_700_000_000_123,
            metrics: [
                Metric(name: "T", alias: 9, timestamp: 1_700_000_000_000, datatype: .double, value: .double(21.5),
                       isHistorical: true, isTransient: true, metadata: metadata, properties: properties),
                Metric(name: "N", datatype: .string, isNull: true),
            ],
            seq: 255, uuid: "u-1", body: [1, 2])
        let expected = "08fbd095ffbc3112b3010a015410091880d095ffbc31200a2801300142240800120a746578742f706c61696e180320012a05612e74787432037478743a01784201644a700a07656e67556e69740a075175616c6974790a066c696d6974730a0672616e6765730a046e6f74651207080c4203c2b0431205080318c001121608144a120a036c6f77120b080a3100000000000000001218081552140a120a0161120d080420ffffffffffffffffff011204080c100169000000000080354012070a014e200c380118ff012203752d312a020102"
        #expect(hex(try payload.encode()) == expected)
        let decoded = try Payload(decoding: bytes(expected))
        #expect(decoded == payload)
        #expect(decoded.metrics[0].properties?.quality == .good)
        #expect(decoded.metrics[0].properties?.engineeringUnit == "°C")
    }

    @Test("DATA metrics without datatype decode untyped and resolve to the BIRTH type")
    func untypedValues() throws {
        // NDATA style: alias only, no datatype; Int8 -1 sign-extended in int_value.
        let wire = Payload(timestamp: 1, metrics: [Metric(alias: 4, value: .int8(-1))], seq: 3)
        let decoded = try Payload(decoding: try wire.encode())
        #expect(decoded.metrics[0].value == .untyped(.int(0xFFFF_FFFF)))
        #expect(try decoded.metrics[0].value?.resolved(as: .int8) == .int8(-1))
        #expect(throws: SparkplugError.self) { try decoded.metrics[0].value?.resolved(as: .uint8) }
        #expect(try decoded.metrics[0].value?.resolved(as: .uint32) == .uint32(.max))
    }

    @Test("legacy and width-truncated integer forms are accepted; out-of-range forms are not")
    func integerLeniency() throws {
        #expect(try MetricValue.untyped(.long(42)).resolved(as: .uint32) == .uint32(42))
        #expect(try MetricValue.untyped(.int(0xFF)).resolved(as: .int8) == .int8(-1))
        #expect(try MetricValue.untyped(.int(0xFFFF)).resolved(as: .int16) == .int16(-1))
        #expect(try MetricValue.untyped(.int(0x80)).resolved(as: .int8) == .int8(-128))
        for (raw, type) in [(UInt32(0x100), DataType.int8), (0xFFFF_0000, .int16), (256, .uint8), (0x10000, .uint16)] {
            #expect(throws: SparkplugError.self) { try MetricValue.untyped(.int(raw)).resolved(as: type) }
        }
        #expect(throws: SparkplugError.self) { try MetricValue.untyped(.long(1 << 32)).resolved(as: .uint32) }
    }

    @Test("encoding refuses a datatype that disagrees with the value, and values protobuf-c cannot carry")
    func encodeRejections() {
        let bad: [Metric] = [
            Metric(name: "m", datatype: .int8, value: .string("x")),
            Metric(name: "m", datatype: .unknown, value: .int32(1)),
            Metric(name: "m", datatype: .propertySet, value: .propertySet(PropertySet())),
            Metric(name: "m", datatype: .string, value: .string("a\0b")),
            Metric(name: "m", datatype: .stringArray, value: .stringArray(["a\0b"])),
            Metric(name: "m", datatype: .double, value: .double(1), isNull: true),
            Metric(name: "m", datatype: .template, value: .template(Template(isDefinition: false))),
            Metric(name: "m", datatype: .template, value: .template(Template(templateRef: "X", isDefinition: true))),
            Metric(name: "m", datatype: .dataSet, value: .dataSet(DataSet(columns: ["a"], types: []))),
            Metric(name: "m", datatype: .dataSet, value: .dataSet(DataSet(columns: ["a"], types: [.bytes]))),
            Metric(name: "m", datatype: .dataSet,
                   value: .dataSet(DataSet(columns: ["a"], types: [.int8], rows: [[.int8(1), .int8(2)]]))),
            Metric(name: "m", datatype: .dataSet,
                   value: .dataSet(DataSet(columns: ["a"], types: [.int8], rows: [[.string("x")]]))),
        ]
        for metric in bad {
            #expect(throws: SparkplugError.self, "\(metric)") { try Payload(metrics: [metric]).encode() }
        }
    }
}
