/// A Modbus response PDU: the data a request asked for, the echo of a write, or an exception.
public enum ModbusResponse: Equatable, Sendable {
    case readCoils([Bool])
    case readDiscreteInputs([Bool])
    case readHoldingRegisters([UInt16])
    case readInputRegisters([UInt16])
    case writeSingleCoil(address: UInt16, value: Bool)
    case writeSingleRegister(address: UInt16, value: UInt16)
    case writeMultipleCoils(address: UInt16, count: UInt16)
    case writeMultipleRegisters(address: UInt16, count: UInt16)
    /// The function code of the request (without the 0x80 flag) and why it was refused.
    case exception(function: UInt8, code: ModbusExceptionCode)

    /// The exception code when this is an exception response.
    public var exceptionCode: ModbusExceptionCode? {
        if case .exception(_, let code) = self { return code }
        return nil
    }

    /// The PDU as a server sends it.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        func put(_ value: UInt16) {
            bytes.append(UInt8(value >> 8))
            bytes.append(UInt8(value & 0xFF))
        }
        switch self {
        case .readCoils(let values), .readDiscreteInputs(let values):
            let packed = ModbusBits.pack(values)
            bytes.reserveCapacity(2 + packed.count)
            bytes.append(isCoils ? 1 : 2)
            bytes.append(UInt8(truncatingIfNeeded: packed.count))
            bytes.append(contentsOf: packed)
        case .readHoldingRegisters(let values), .readInputRegisters(let values):
            bytes.reserveCapacity(2 + values.count * 2)
            bytes.append(isHolding ? 3 : 4)
            bytes.append(UInt8(truncatingIfNeeded: values.count * 2))
            for value in values { put(value) }
        case .writeSingleCoil(let address, let value):
            bytes.append(5)
            put(address)
            put(value ? 0xFF00 : 0)
        case .writeSingleRegister(let address, let value):
            bytes.append(6)
            put(address)
            put(value)
        case .writeMultipleCoils(let address, let count):
            bytes.append(15)
            put(address)
            put(count)
        case .writeMultipleRegisters(let address, let count):
            bytes.append(16)
            put(address)
            put(count)
        case .exception(let function, let code):
            bytes = [function | 0x80, code.rawValue]
        }
        return bytes
    }

    private var isCoils: Bool { if case .readCoils = self { true } else { false } }
    private var isHolding: Bool { if case .readHoldingRegisters = self { true } else { false } }

    /// Decodes a response PDU as a client sees it, checking it against the request it answers (the bit count
    /// of a read is only known from the request).
    public static func decode(pdu: [UInt8], answering request: ModbusRequest) throws(ModbusError) -> ModbusResponse {
        guard let first = pdu.first else { throw ModbusError(.malformedPDU, "empty response PDU") }
        let expected = request.functionCode.rawValue
        if first == expected | 0x80 {
            guard pdu.count == 2 else {
                throw ModbusError(.malformedPDU, "exception response is \(pdu.count) bytes; it must be 2")
            }
            return .exception(function: expected, code: ModbusExceptionCode(rawValue: pdu[1]))
        }
        guard first == expected else {
            throw ModbusError(.unexpectedResponse, "response function code \(first) answers a request with \(expected)")
        }
        func word(_ at: Int) -> UInt16 { UInt16(pdu[at]) << 8 | UInt16(pdu[at + 1]) }
        func requireCount(_ count: Int) throws(ModbusError) {
            guard pdu.count == count else {
                throw ModbusError(.malformedPDU, "function \(first) response is \(pdu.count) bytes; expected \(count)")
            }
        }
        switch request {
        case .readCoils(_, let count), .readDiscreteInputs(_, let count):
            let bytes = (Int(count) + 7) / 8
            try requireCount(2 + bytes)
            guard Int(pdu[1]) == bytes else {
                throw ModbusError(.malformedPDU, "byte count \(pdu[1]) for \(count) bits; expected \(bytes)")
            }
            let values = ModbusBits.unpack(pdu[2...], count: Int(count))
            return first == 1 ? .readCoils(values) : .readDiscreteInputs(values)
        case .readHoldingRegisters(_, let count), .readInputRegisters(_, let count):
            try requireCount(2 + Int(count) * 2)
            guard Int(pdu[1]) == Int(count) * 2 else {
                throw ModbusError(.malformedPDU, "byte count \(pdu[1]) for \(count) registers; expected \(count * 2)")
            }
            let values = (0..<Int(count)).map { word(2 + 2 * $0) }
            return first == 3 ? .readHoldingRegisters(values) : .readInputRegisters(values)
        case .writeSingleCoil:
            try requireCount(5)
            return .writeSingleCoil(address: word(1), value: word(3) == 0xFF00)
        case .writeSingleRegister:
            try requireCount(5)
            return .writeSingleRegister(address: word(1), value: word(3))
        case .writeMultipleCoils:
            try requireCount(5)
            return .writeMultipleCoils(address: word(1), count: word(3))
        case .writeMultipleRegisters:
            try requireCount(5)
            return .writeMultipleRegisters(address: word(1), count: word(3))
        }
    }
}
