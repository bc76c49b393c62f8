/// The Modbus function codes this library speaks (Modbus Application Protocol V1.1b3, section 6).
public enum ModbusFunctionCode: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case readCoils = 1
    case readDiscreteInputs = 2
    case readHoldingRegisters = 3
    case readInputRegisters = 4
    case writeSingleCoil = 5
    case writeSingleRegister = 6
    case writeMultipleCoils = 15
    case writeMultipleRegisters = 16

    public var description: String {
        switch self {
        case .readCoils: "read coils"
        case .readDiscreteInputs: "read discrete inputs"
        case .readHoldingRegisters: "read holding registers"
        case .readInputRegisters: "read input registers"
        case .writeSingleCoil: "write single coil"
        case .writeSingleRegister: "write single register"
        case .writeMultipleCoils: "write multiple coils"
        case .writeMultipleRegisters: "write multiple registers"
        }
    }
}

/// A Modbus exception code (section 7). A struct rather than an enum so a client can carry codes it does not
/// know by name.
public struct ModbusExceptionCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let illegalFunction = ModbusExceptionCode(rawValue: 0x01)
    public static let illegalDataAddress = ModbusExceptionCode(rawValue: 0x02)
    public static let illegalDataValue = ModbusExceptionCode(rawValue: 0x03)
    public static let serverDeviceFailure = ModbusExceptionCode(rawValue: 0x04)
    public static let acknowledge = ModbusExceptionCode(rawValue: 0x05)
    public static let serverDeviceBusy = ModbusExceptionCode(rawValue: 0x06)
    public static let gatewayPathUnavailable = ModbusExceptionCode(rawValue: 0x0A)
    public static let gatewayTargetFailedToRespond = ModbusExceptionCode(rawValue: 0x0B)

    /// The name the specification gives the code, e.g. "illegal data address".
    public var name: String {
        switch rawValue {
        case 0x01: "illegal function"
        case 0x02: "illegal data address"
        case 0x03: "illegal data value"
        case 0x04: "server device failure"
        case 0x05: "acknowledge"
        case 0x06: "server device busy"
        case 0x08: "memory parity error"
        case 0x0A: "gateway path unavailable"
        case 0x0B: "gateway target device failed to respond"
        default: "unknown"
        }
    }

    public var description: String { "Modbus exception \(rawValue) (\(name))" }
}

/// The request quantity limits of section 6 (per function code), which decide exception 3.
public enum ModbusLimits {
    /// Coils or discrete inputs per read (FC 1, 2).
    public static let readBits: ClosedRange<Int> = 1...2000
    /// Registers per read (FC 3, 4).
    public static let readRegisters: ClosedRange<Int> = 1...125
    /// Coils per write (FC 15).
    public static let writeBits: ClosedRange<Int> = 1...1968
    /// Registers per write (FC 16).
    public static let writeRegisters: ClosedRange<Int> = 1...123
}
