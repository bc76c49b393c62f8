import Modbus
import Testing

/// Golden frames from the Modbus Application Protocol specification V1.1b3 (section 6 examples) and the
/// Modbus Messaging on TCP/IP guide, decoded and re-encoded byte for byte.
@Suite struct ModbusCodecTests {
    @Test func readHoldingRegistersRequestFromSpecExample() {
        // Spec 6.3: read registers 108–110 (offset 107, count 3).
        let pdu: [UInt8] = [0x03, 0x00, 0x6B, 0x00, 0x03]
        #expect(ModbusRequest.decode(pdu: pdu) == .request(.readHoldingRegisters(address: 107, count: 3)))
        #expect(ModbusRequest.readHoldingRegisters(address: 107, count: 3).encoded == pdu)
    }

    @Test func readHoldingRegistersResponseFromSpecExample() throws {
        let pdu: [UInt8] = [0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64]
        let response = ModbusResponse.readHoldingRegisters([555, 0, 100])
        #expect(response.encoded == pdu)
        #expect(
            try ModbusResponse.decode(pdu: pdu, answering: .readHoldingRegisters(address: 107, count: 3))
                == response)
    }

    @Test func readCoilsResponsePacksLeastSignificantBitFirst() throws {
        // Spec 6.1: coils 20–38 = CD 6B 05.
        let pdu: [UInt8] = [0x01, 0x03, 0xCD, 0x6B, 0x05]
        let request = ModbusRequest.readCoils(address: 19, count: 19)
        let response = try ModbusResponse.decode(pdu: pdu, answering: request)
        guard case .readCoils(let bits) = response else {
            Issue.record("expected read coils, got \(response)")
            return
        }
        #expect(bits.count == 19)
        #expect(bits.prefix(8) == [true, false, true, true, false, false, true, true])  // 0xCD
        #expect(response.encoded == pdu)
    }

    @Test func writeMultipleCoilsRequestFromSpecExample() {
        // Spec 6.11: 10 coils from offset 19, values CD 01.
        let pdu: [UInt8] = [0x0F, 0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD, 0x01]
        let values = [true, false, true, true, false, false, true, true, true, false]
        #expect(ModbusRequest.decode(pdu: pdu) == .request(.writeMultipleCoils(address: 19, values: values)))
        #expect(ModbusRequest.writeMultipleCoils(address: 19, values: values).encoded == pdu)
    }

    @Test func writeMultipleRegistersRequestFromSpecExample() {
        let pdu: [UInt8] = [0x10, 0x00, 0x01, 0x00, 0x02, 0x04, 0x00, 0x0A, 0x01, 0x02]
        #expect(ModbusRequest.decode(pdu: pdu) == .request(.writeMultipleRegisters(address: 1, values: [10, 258])))
        #expect(ModbusResponse.writeMultipleRegisters(address: 1, count: 2).encoded == [0x10, 0x00, 0x01, 0x00, 0x02])
    }

    @Test func writeSingleCoilAcceptsOnlyFF00AndZero() {
        #expect(
            ModbusRequest.decode(pdu: [0x05, 0x00, 0xAC, 0xFF, 0x00])
                == .request(.writeSingleCoil(address: 172, value: true)))
        #expect(
            ModbusRequest.decode(pdu: [0x05, 0x00, 0xAC, 0x00, 0x00])
                == .request(.writeSingleCoil(address: 172, value: false)))
        #expect(
            ModbusRequest.decode(pdu: [0x05, 0x00, 0xAC, 0x00, 0x01])
                == .exception(.exception(function: 5, code: .illegalDataValue)))
    }

    @Test(arguments: [
        ([UInt8]([0x03, 0x00, 0x00, 0x00, 0x00]), ModbusExceptionCode.illegalDataValue),  // quantity 0
        ([0x03, 0x00, 0x00, 0x00, 0x7E], .illegalDataValue),  // 126 registers
        ([0x01, 0x00, 0x00, 0x07, 0xD1], .illegalDataValue),  // 2001 coils
        ([0x03, 0x00, 0x00, 0x00], .illegalDataValue),  // truncated
        ([0x10, 0x00, 0x00, 0x00, 0x02, 0x03, 0x00, 0x01, 0x00], .illegalDataValue),  // byte count 3 for 2 regs
        ([0x0F, 0x00, 0x00, 0x00, 0x0A, 0x01, 0xFF], .illegalDataValue),  // 10 coils in 1 byte
        ([0x07], .illegalFunction),
        ([0x2B, 0x0E, 0x01, 0x00], .illegalFunction),
    ])
    func badRequestsGetTheSpecifiedException(pdu: [UInt8], code: ModbusExceptionCode) {
        #expect(ModbusRequest.decode(pdu: pdu) == .exception(.exception(function: pdu[0], code: code)))
    }

    @Test func exceptionResponseSetsTheHighBit() throws {
        let response = ModbusResponse.exception(function: 3, code: .illegalDataAddress)
        #expect(response.encoded == [0x83, 0x02])
        #expect(
            try ModbusResponse.decode(pdu: [0x83, 0x02], answering: .readHoldingRegisters(address: 0, count: 1))
                == response)
    }

    @Test func mbapFrameRoundTripsTheTCPGuideExample() throws {
        // Transaction 0x0001, protocol 0, length 6, unit 0x11, read holding registers 0x006B × 3.
        let bytes: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x6B, 0x00, 0x03]
        let decoded = try #require(try ModbusFrame.decode(from: bytes[...]))
        #expect(decoded.size == 12)
        #expect(decoded.frame == ModbusFrame(transactionID: 1, unitID: 0x11, pdu: [0x03, 0x00, 0x6B, 0x00, 0x03]))
        #expect(decoded.frame.encoded == bytes)
    }

    @Test func framingWaitsForPartialFramesAndSplitsSeveral() throws {
        let first = ModbusFrame(transactionID: 7, unitID: 1, pdu: [0x03, 0x00, 0x00, 0x00, 0x01]).encoded
        let second = ModbusFrame(transactionID: 8, unitID: 1, pdu: [0x04, 0x00, 0x00, 0x00, 0x01]).encoded
        let stream = first + second
        #expect(try ModbusFrame.decode(from: stream[0..<5]) == nil)
        #expect(try ModbusFrame.decode(from: stream[0..<11]) == nil)
        let one = try #require(try ModbusFrame.decode(from: stream[...]))
        #expect(one.frame.transactionID == 7)
        let two = try #require(try ModbusFrame.decode(from: stream[one.size...]))
        #expect(two.frame.transactionID == 8)
        #expect(one.size + two.size == stream.count)
    }

    @Test func framingRejectsAWrongProtocolIDAndLength() {
        #expect(throws: ModbusError.self) { try ModbusFrame.decode(from: [0, 1, 0, 1, 0, 6, 1, 3, 0, 0, 0, 1][...]) }
        #expect(throws: ModbusError.self) { try ModbusFrame.decode(from: [0, 1, 0, 0, 1, 0, 1][...]) }
        #expect(throws: ModbusError.self) { try ModbusFrame.decode(from: [0, 1, 0, 0, 0, 1, 1][...]) }
    }

    @Test func wordOrderSplitsThirtyTwoBitValues() {
        #expect(ModbusWordOrder.bigEndian.registers(UInt32(0x1234_5678)) == (0x1234, 0x5678))
        #expect(ModbusWordOrder.littleEndian.registers(UInt32(0x1234_5678)) == (0x5678, 0x1234))
        #expect(ModbusWordOrder.littleEndian.value(0x5678, 0x1234) == 0x1234_5678)
        let (a, b) = ModbusWordOrder.bigEndian.registers(Float(123.5))
        #expect(ModbusWordOrder.bigEndian.float(a, b) == 123.5)
        #expect((a, b) == (0x42F7, 0x0000))
    }

    @Test func dataTablesRefuseRangesCrossingTheEndAndReadOnlyWrites() {
        var tables = ModbusDataTables(
            coils: 4, discreteInputs: 4, holdingRegisters: 10, inputRegisters: 2,
            writableCoils: [0], writableHoldingRegisters: [5, 6])
        #expect(tables.serve(.readHoldingRegisters(address: 8, count: 2)) == .readHoldingRegisters([0, 0]))
        #expect(tables.serve(.readHoldingRegisters(address: 8, count: 3)).exceptionCode == .illegalDataAddress)
        #expect(tables.serve(.readHoldingRegisters(address: 65535, count: 125)).exceptionCode == .illegalDataAddress)
        #expect(tables.serve(.writeSingleRegister(address: 4, value: 1)).exceptionCode == .illegalDataAddress)
        #expect(
            tables.serve(.writeMultipleRegisters(address: 5, values: [1, 2]))
                == .writeMultipleRegisters(address: 5, count: 2))
        #expect(tables.holdingRegisters[5...6] == [1, 2])
        #expect(
            tables.serve(.writeMultipleRegisters(address: 5, values: [1, 2, 3])).exceptionCode == .illegalDataAddress)
        #expect(tables.serve(.writeSingleCoil(address: 1, value: true)).exceptionCode == .illegalDataAddress)
    }
}
