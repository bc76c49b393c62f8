/// How a 32-bit value is split over two consecutive 16-bit registers. Bytes inside a register are always
/// big-endian (Modbus section 4.2); devices disagree on the order of the two words.
public enum ModbusWordOrder: String, CaseIterable, Codable, Sendable {
    /// High word first, "ABCD": the Modbus convention and the default.
    case bigEndian = "big-endian"
    /// Low word first, "CDAB": common in PLCs (Modicon, many energy meters).
    case littleEndian = "little-endian"

    /// The two registers that hold `value`, in register-address order.
    public func registers(_ value: UInt32) -> (UInt16, UInt16) {
        let high = UInt16(value >> 16), low = UInt16(value & 0xFFFF)
        return self == .bigEndian ? (high, low) : (low, high)
    }

    /// The 32-bit value two consecutive registers hold.
    public func value(_ first: UInt16, _ second: UInt16) -> UInt32 {
        self == .bigEndian ? UInt32(first) << 16 | UInt32(second) : UInt32(second) << 16 | UInt32(first)
    }

    /// The registers of an IEEE 754 single-precision value.
    public func registers(_ value: Float) -> (UInt16, UInt16) { registers(value.bitPattern) }

    /// The float two consecutive registers hold.
    public func float(_ first: UInt16, _ second: UInt16) -> Float { Float(bitPattern: value(first, second)) }
}
