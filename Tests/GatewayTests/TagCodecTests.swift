import Modbus
import Sparkplug
import Testing

@testable import Gateway

/// Register decoding, write encoding and read planning: pure functions, no device.
@Suite struct TagCodecTests {
    static func tag(_ type: TagType, offset: UInt16 = 0, area: ModbusArea = .holding, scale: Double = 1,
                    valueOffset: Double = 0, word: ModbusWordOrder = .bigEndian, byte: ByteOrder = .bigEndian,
                    length: Int? = nil, writable: Bool = false, min: Double? = nil, max: Double? = nil) -> TagConfig {
        TagConfig(name: "t\(offset)", address: TagAddress(area: area, offset: offset, unit: nil), type: type,
                  length: length ?? type.registerCount, byteOrder: byte, wordOrder: word, scale: scale,
                  offset: valueOffset, unit: nil, deadband: 0, pollGroup: "default", writable: writable,
                  minimum: min, maximum: max)
    }

    @Test func decodesEveryTypeInBothWordOrders() {
        #expect(TagCodec.decode(registers: [0xFF38], as: Self.tag(.int16)) == .int16(-200))
        #expect(TagCodec.decode(registers: [0xFF38], as: Self.tag(.uint16)) == .uint16(0xFF38))
        #expect(TagCodec.decode(registers: [0x0001, 0x0002], as: Self.tag(.uint32)) == .uint32(0x0001_0002))
        #expect(TagCodec.decode(registers: [0x0002, 0x0001], as: Self.tag(.uint32, word: .littleEndian)) == .uint32(0x0001_0002))
        #expect(TagCodec.decode(registers: [0xFFFF, 0xFFFE], as: Self.tag(.int32)) == .int32(-2))
        let (high, low) = ModbusWordOrder.bigEndian.registers(Float(12.5))
        #expect(TagCodec.decode(registers: [high, low], as: Self.tag(.float32)) == .float(12.5))
        #expect(TagCodec.decode(registers: [low, high], as: Self.tag(.float32, word: .littleEndian)) == .float(12.5))
        let bits = (-1.25).bitPattern
        let words = (0..<4).map { UInt16(truncatingIfNeeded: bits >> (48 - 16 * UInt64($0))) }
        #expect(TagCodec.decode(registers: words[...], as: Self.tag(.float64)) == .double(-1.25))
        #expect(TagCodec.decode(registers: [0, 0, 0, 5], as: Self.tag(.int64)) == .int64(5))
        #expect(TagCodec.decode(registers: [0x0100], as: Self.tag(.uint16, byte: .littleEndian)) == .uint16(1))
        #expect(TagCodec.decode(registers: [0x4142, 0x4300], as: Self.tag(.string, length: 2)) == .string("ABC"))
        #expect(TagCodec.decode(registers: [3], as: Self.tag(.bool)) == .boolean(true))
    }

    @Test func scaleAndOffsetGiveEngineeringDoubles() {
        #expect(TagCodec.decode(registers: [295], as: Self.tag(.int16, scale: 0.1)) == .double(29.5))
        #expect(TagCodec.decode(registers: [100], as: Self.tag(.uint16, scale: 0.5, valueOffset: -10)) == .double(40))
        #expect(TagCodec.datatype(of: Self.tag(.int16, scale: 0.1)) == .double)
        #expect(TagCodec.datatype(of: Self.tag(.uint32)) == .uint32)
    }

    @Test func writesPickTheFunctionAndRoundTrip() throws {
        let setpoint = Self.tag(.int16, offset: 20, scale: 0.1, writable: true, min: -40, max: 400)
        let (request, confirmed) = try TagCodec.writeRequest(for: setpoint, value: .double(31.26))
        #expect(request == .writeSingleRegister(address: 20, value: 313))
        #expect(confirmed == .double(31.3))
        let wide = Self.tag(.uint32, offset: 4, word: .littleEndian, writable: true)
        #expect(try TagCodec.writeRequest(for: wide, value: .uint32(0x0001_0002)).request
                == .writeMultipleRegisters(address: 4, values: [0x0002, 0x0001]))
        let coil = Self.tag(.bool, offset: 1, area: .coil, writable: true)
        #expect(try TagCodec.writeRequest(for: coil, value: .boolean(true)).request == .writeSingleCoil(address: 1, value: true))
    }

    @Test func rejectedWritesSayWhy() {
        let setpoint = Self.tag(.int16, offset: 20, scale: 0.1, writable: true, min: -40, max: 400)
        #expect(throws: TagCodec.WriteRejection.outOfRange("t20 = 401.0 is above its maximum 400.0")) {
            try TagCodec.writeRequest(for: setpoint, value: .double(401))
        }
        #expect(throws: TagCodec.WriteRejection.notWritable) {
            try TagCodec.writeRequest(for: Self.tag(.uint16), value: .uint16(1))
        }
        #expect((try? TagCodec.writeRequest(for: setpoint, value: .string("hot"))) == nil)
        let narrow = Self.tag(.uint16, writable: true)
        #expect((try? TagCodec.writeRequest(for: narrow, value: .int32(-1))) == nil)
        #expect((try? TagCodec.writeRequest(for: narrow, value: .int32(70000))) == nil)
    }

    @Test func contiguousTagsShareOneReadAndGapsSplit() {
        let tags = [
            Self.tag(.uint16, offset: 0), Self.tag(.uint32, offset: 4), Self.tag(.uint16, offset: 7),
            Self.tag(.uint16, offset: 40), Self.tag(.bool, offset: 0, area: .coil), Self.tag(.bool, offset: 1, area: .coil),
        ]
        let plan = ReadPlan(tags: tags, indices: Array(tags.indices), unit: 1, maxGap: 8)
        #expect(plan.reads.map(\.request) == [
            .readCoils(address: 0, count: 2),
            .readHoldingRegisters(address: 0, count: 8),
            .readHoldingRegisters(address: 40, count: 1),
        ])
        let tight = ReadPlan(tags: tags, indices: [0, 1, 2], unit: 1, maxGap: 2)
        #expect(tight.reads.map(\.request) == [
            .readHoldingRegisters(address: 0, count: 1), .readHoldingRegisters(address: 4, count: 4),
        ])
    }

    @Test func readsStopAt125Registers() {
        let tags = (0..<130).map { Self.tag(.uint16, offset: UInt16($0)) }
        let plan = ReadPlan(tags: tags, indices: Array(tags.indices), unit: 1, maxGap: 8)
        #expect(plan.reads.map(\.count) == [125, 5])
        let values = ReadPlan.values(of: plan.reads[1], response: .readHoldingRegisters([1, 2, 3, 4, 5]), tags: tags)
        #expect(values.map(\.0) == [125, 126, 127, 128, 129])
        #expect(values.map(\.1) == [.uint16(1), .uint16(2), .uint16(3), .uint16(4), .uint16(5)])
    }
}
