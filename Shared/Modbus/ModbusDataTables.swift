/// The four Modbus data tables of a device (coils, discrete inputs, holding and input registers) and the
/// request semantics over them: address checks (exception 2 when any part of a range is outside the table or
/// a write targets a read-only entry) and writes. A value: the owner decides how it is shared.
public struct ModbusDataTables: Equatable, Sendable {
    public var coils: [Bool]
    public var discreteInputs: [Bool]
    public var holdingRegisters: [UInt16]
    public var inputRegisters: [UInt16]
    /// Coil addresses a client may write; the others answer exception 2.
    public var writableCoils: Set<UInt16>
    /// Holding register addresses a client may write; the others answer exception 2.
    public var writableHoldingRegisters: Set<UInt16>

    public init(
        coils: Int, discreteInputs: Int, holdingRegisters: Int, inputRegisters: Int,
        writableCoils: Set<UInt16>, writableHoldingRegisters: Set<UInt16>
    ) {
        self.coils = Array(repeating: false, count: coils)
        self.discreteInputs = Array(repeating: false, count: discreteInputs)
        self.holdingRegisters = Array(repeating: 0, count: holdingRegisters)
        self.inputRegisters = Array(repeating: 0, count: inputRegisters)
        self.writableCoils = writableCoils
        self.writableHoldingRegisters = writableHoldingRegisters
    }

    /// Serves one request: reads answer from the tables, writes change them. Exceptions follow section 6:
    /// a range that starts or ends outside the table is exception 2 (illegal data address).
    public mutating func serve(_ request: ModbusRequest) -> ModbusResponse {
        let function = request.functionCode.rawValue
        let illegalAddress = ModbusResponse.exception(function: function, code: .illegalDataAddress)
        func range(_ address: UInt16, _ count: Int, in size: Int) -> Range<Int>? {
            let start = Int(address), end = start + count
            return end <= size ? start..<end : nil
        }
        switch request {
        case .readCoils(let address, let count):
            guard let range = range(address, Int(count), in: coils.count) else { return illegalAddress }
            return .readCoils(Array(coils[range]))
        case .readDiscreteInputs(let address, let count):
            guard let range = range(address, Int(count), in: discreteInputs.count) else { return illegalAddress }
            return .readDiscreteInputs(Array(discreteInputs[range]))
        case .readHoldingRegisters(let address, let count):
            guard let range = range(address, Int(count), in: holdingRegisters.count) else { return illegalAddress }
            return .readHoldingRegisters(Array(holdingRegisters[range]))
        case .readInputRegisters(let address, let count):
            guard let range = range(address, Int(count), in: inputRegisters.count) else { return illegalAddress }
            return .readInputRegisters(Array(inputRegisters[range]))
        case .writeSingleCoil(let address, let value):
            guard Int(address) < coils.count, writableCoils.contains(address) else { return illegalAddress }
            coils[Int(address)] = value
            return .writeSingleCoil(address: address, value: value)
        case .writeSingleRegister(let address, let value):
            guard Int(address) < holdingRegisters.count, writableHoldingRegisters.contains(address) else {
                return illegalAddress
            }
            holdingRegisters[Int(address)] = value
            return .writeSingleRegister(address: address, value: value)
        case .writeMultipleCoils(let address, let values):
            guard let range = range(address, values.count, in: coils.count),
                range.allSatisfy({ writableCoils.contains(UInt16($0)) })
            else { return illegalAddress }
            coils.replaceSubrange(range, with: values)
            return .writeMultipleCoils(address: address, count: UInt16(values.count))
        case .writeMultipleRegisters(let address, let values):
            guard let range = range(address, values.count, in: holdingRegisters.count),
                range.allSatisfy({ writableHoldingRegisters.contains(UInt16($0)) })
            else { return illegalAddress }
            holdingRegisters.replaceSubrange(range, with: values)
            return .writeMultipleRegisters(address: address, count: UInt16(values.count))
        }
    }
}
