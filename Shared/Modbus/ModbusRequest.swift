/// A Modbus request PDU, decoded. Addresses are protocol offsets (0-based): holding register 40001 is
/// `readHoldingRegisters(address: 0, …)`.
public enum ModbusRequest: Equatable, Sendable {
    case readCoils(address: UInt16, count: UInt16)
    case readDiscreteInputs(address: UInt16, count: UInt16)
    case readHoldingRegisters(address: UInt16, count: UInt16)
    case readInputRegisters(address: UInt16, count: UInt16)
    case writeSingleCoil(address: UInt16, value: Bool)
    case writeSingleRegister(address: UInt16, value: UInt16)
    case writeMultipleCoils(address: UInt16, values: [Bool])
    case writeMultipleRegisters(address: UInt16, values: [UInt16])

    /// The outcome of decoding a request PDU on a server: a request to serve, or the exception response the
    /// specification prescribes (1 for an unknown function, 3 for a wrong quantity, byte count or length).
    public enum Decoded: Equatable, Sendable {
        case request(ModbusRequest)
        case exception(ModbusResponse)
    }

    public var functionCode: ModbusFunctionCode {
        switch self {
        case .readCoils: .readCoils
        case .readDiscreteInputs: .readDiscreteInputs
        case .readHoldingRegisters: .readHoldingRegisters
        case .readInputRegisters: .readInputRegisters
        case .writeSingleCoil: .writeSingleCoil
        case .writeSingleRegister: .writeSingleRegister
        case .writeMultipleCoils: .writeMultipleCoils
        case .writeMultipleRegisters: .writeMultipleRegisters
        }
    }

    /// Decodes a request PDU as a server sees it (section 6, the "request" tables and the state diagrams that
    /// decide which exception code answers a bad request).
    public static func decode(pdu: [UInt8]) -> Decoded {
        guard let first = pdu.first else {
            return .exception(.exception(function: 0, code: .illegalFunction))
        }
        guard let function = ModbusFunctionCode(rawValue: first) else {
            return .exception(.exception(function: first, code: .illegalFunction))
        }
        let reject = Decoded.exception(.exception(function: first, code: .illegalDataValue))
        func word(_ at: Int) -> UInt16 { UInt16(pdu[at]) << 8 | UInt16(pdu[at + 1]) }

        switch function {
        case .readCoils, .readDiscreteInputs, .readHoldingRegisters, .readInputRegisters:
            guard pdu.count == 5 else { return reject }
            let address = word(1), count = word(3)
            let limit = function.rawValue <= 2 ? ModbusLimits.readBits : ModbusLimits.readRegisters
            guard limit.contains(Int(count)) else { return reject }
            switch function {
            case .readCoils: return .request(.readCoils(address: address, count: count))
            case .readDiscreteInputs: return .request(.readDiscreteInputs(address: address, count: count))
            case .readHoldingRegisters: return .request(.readHoldingRegisters(address: address, count: count))
            default: return .request(.readInputRegisters(address: address, count: count))
            }
        case .writeSingleCoil:
            guard pdu.count == 5 else { return reject }
            // Section 6.5: 0xFF00 is ON, 0x0000 is OFF; every other value is exception 3.
            switch word(3) {
            case 0xFF00: return .request(.writeSingleCoil(address: word(1), value: true))
            case 0x0000: return .request(.writeSingleCoil(address: word(1), value: false))
            default: return reject
            }
        case .writeSingleRegister:
            guard pdu.count == 5 else { return reject }
            return .request(.writeSingleRegister(address: word(1), value: word(3)))
        case .writeMultipleCoils:
            guard pdu.count >= 6 else { return reject }
            let count = Int(word(3)), byteCount = Int(pdu[5])
            guard ModbusLimits.writeBits.contains(count), byteCount == (count + 7) / 8,
                pdu.count == 6 + byteCount
            else { return reject }
            let values = (0..<count).map { pdu[6 + $0 / 8] & (1 << ($0 % 8)) != 0 }
            return .request(.writeMultipleCoils(address: word(1), values: values))
        case .writeMultipleRegisters:
            guard pdu.count >= 6 else { return reject }
            let count = Int(word(3)), byteCount = Int(pdu[5])
            guard ModbusLimits.writeRegisters.contains(count), byteCount == count * 2,
                pdu.count == 6 + byteCount
            else { return reject }
            let values = (0..<count).map { word(6 + 2 * $0) }
            return .request(.writeMultipleRegisters(address: word(1), values: values))
        }
    }

    /// The PDU as a client sends it.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [functionCode.rawValue]
        func put(_ value: UInt16) {
            bytes.append(UInt8(value >> 8))
            bytes.append(UInt8(value & 0xFF))
        }
        switch self {
        case .readCoils(let address, let count), .readDiscreteInputs(let address, let count),
            .readHoldingRegisters(let address, let count), .readInputRegisters(let address, let count):
            put(address)
            put(count)
        case .writeSingleCoil(let address, let value):
            put(address)
            put(value ? 0xFF00 : 0x0000)
        case .writeSingleRegister(let address, let value):
            put(address)
            put(value)
        case .writeMultipleCoils(let address, let values):
            put(address)
            put(UInt16(truncatingIfNeeded: values.count))
            let packed = ModbusBits.pack(values)
            bytes.append(UInt8(truncatingIfNeeded: packed.count))
            bytes.append(contentsOf: packed)
        case .writeMultipleRegisters(let address, let values):
            put(address)
            put(UInt16(truncatingIfNeeded: values.count))
            bytes.append(UInt8(truncatingIfNeeded: values.count * 2))
            for value in values { put(value) }
        }
        return bytes
    }
}

/// Coil and discrete-input packing: eight bits per byte, the first bit in the least significant position
/// (section 6.1).
public enum ModbusBits {
    public static func pack(_ values: [Bool]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: (values.count + 7) / 8)
        for (index, value) in values.enumerated() where value {
            bytes[index / 8] |= 1 << (index % 8)
        }
        return bytes
    }

    public static func unpack(_ bytes: some Collection<UInt8>, count: Int) -> [Bool] {
        let array = Array(bytes)
        return (0..<min(count, array.count * 8)).map { array[$0 / 8] & (1 << ($0 % 8)) != 0 }
    }
}
