import Foundation
import Modbus
import Sparkplug

/// Converts between a tag's registers and its Sparkplug value: byte order inside each register, word order
/// across registers, then `value × scale + offset`. A scaled tag is published as a Double; otherwise the
/// type keeps its Sparkplug counterpart (uint32 stays UInt32).
enum TagCodec {
    /// The Sparkplug datatype a tag is declared with in its DBIRTH.
    static func datatype(of tag: TagConfig) -> DataType {
        if tag.isScaled { return .double }
        switch tag.type {
        case .int16: return .int16
        case .uint16: return .uint16
        case .int32: return .int32
        case .uint32: return .uint32
        case .int64: return .int64
        case .float32: return .float
        case .float64: return .double
        case .bool: return .boolean
        case .string: return .string
        }
    }

    /// The registers in value order (most significant word first), bytes fixed to big-endian.
    private static func normalized(_ registers: ArraySlice<UInt16>, _ tag: TagConfig) -> [UInt16] {
        var words = registers.map { tag.byteOrder == .littleEndian ? $0.byteSwapped : $0 }
        if tag.wordOrder == .littleEndian && tag.type != .string { words.reverse() }
        return words
    }

    /// Decodes a tag from exactly `tag.width` registers.
    static func decode(registers: ArraySlice<UInt16>, as tag: TagConfig) -> MetricValue {
        let words = normalized(registers, tag)
        func wide() -> UInt64 { words.reduce(0) { $0 << 16 | UInt64($1) } }
        let raw: MetricValue
        switch tag.type {
        case .int16: raw = .int16(Int16(bitPattern: words.first ?? 0))
        case .uint16: raw = .uint16(words.first ?? 0)
        case .int32: raw = .int32(Int32(bitPattern: UInt32(truncatingIfNeeded: wide())))
        case .uint32: raw = .uint32(UInt32(truncatingIfNeeded: wide()))
        case .int64: raw = .int64(Int64(bitPattern: wide()))
        case .float32: raw = .float(Float(bitPattern: UInt32(truncatingIfNeeded: wide())))
        case .float64: raw = .double(Double(bitPattern: wide()))
        case .bool: raw = .boolean((words.first ?? 0) != 0)
        case .string:
            // Two ASCII characters per register, high byte first; NULs pad the end.
            var bytes: [UInt8] = []
            for word in words { bytes.append(UInt8(word >> 8)); bytes.append(UInt8(word & 0xFF)) }
            while bytes.last == 0 { bytes.removeLast() }
            raw = .string(String(decoding: bytes, as: UTF8.self))
        }
        guard tag.isScaled, let number = raw.number else { return raw }
        return .double(scaled(number, tag))
    }

    /// `raw × scale + offset`; a scale such as 0.1 divides by 10 instead, so 230 gives 23.0 and not
    /// 23.000000000000004 (hosts compare and display these values).
    static func scaled(_ raw: Double, _ tag: TagConfig) -> Double {
        let inverse = 1 / tag.scale
        let value = abs(inverse.rounded() - inverse) < 1e-9 && abs(inverse) >= 1 ? raw / inverse.rounded() : raw * tag.scale
        return value + tag.offset
    }

    /// Decodes a bit tag (coil or discrete input).
    static func decode(bit: Bool) -> MetricValue { .boolean(bit) }

    /// Why a write was refused, for the log and the `reason` label of the rejected-writes counter.
    enum WriteRejection: Error, Equatable, CustomStringConvertible {
        case notWritable
        case wrongType(String)
        case outOfRange(String)

        var reason: String {
            switch self {
            case .notWritable: "not_writable"
            case .wrongType: "wrong_type"
            case .outOfRange: "out_of_range"
            }
        }

        var description: String {
            switch self {
            case .notWritable: "the tag is not writable"
            case .wrongType(let detail), .outOfRange(let detail): detail
            }
        }
    }

    /// The Modbus request that writes `value` (an engineering value) to `tag`, and the value the device will
    /// then hold (after rounding to the register's resolution). FC 5 for a coil, FC 6 for one register,
    /// FC 16 for several.
    static func writeRequest(for tag: TagConfig, value: MetricValue) throws(WriteRejection)
        -> (request: ModbusRequest, confirmed: MetricValue) {
        guard tag.writable else { throw .notWritable }
        let offset = tag.address.offset
        if tag.type == .bool {
            guard case .boolean(let bit) = value else {
                throw .wrongType("\(tag.name) is bool; the command carries \(value.datatype?.description ?? "an untyped value")")
            }
            if tag.address.area == .coil {
                return (.writeSingleCoil(address: offset, value: bit), .boolean(bit))
            }
            return (.writeSingleRegister(address: offset, value: bit ? 1 : 0), .boolean(bit))
        }
        if tag.type == .string {
            guard case .string(let text) = value else { throw .wrongType("\(tag.name) is a string") }
            var bytes = Array(text.utf8.prefix(tag.length * 2))
            while bytes.count < tag.length * 2 { bytes.append(0) }
            let words = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
            let stored = MetricValue.string(String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self))
            return (words.count == 1 ? .writeSingleRegister(address: offset, value: words[0])
                        : .writeMultipleRegisters(address: offset, values: words), stored)
        }
        guard let engineering = value.number else {
            throw .wrongType("\(tag.name) is numeric; the command carries \(value.datatype?.description ?? "no number")")
        }
        if let minimum = tag.minimum, engineering < minimum {
            throw .outOfRange("\(tag.name) = \(engineering) is below its minimum \(minimum)")
        }
        if let maximum = tag.maximum, engineering > maximum {
            throw .outOfRange("\(tag.name) = \(engineering) is above its maximum \(maximum)")
        }
        let raw = (engineering - tag.offset) / tag.scale
        let bits: UInt64
        func integer<T: FixedWidthInteger>(_: T.Type) throws(WriteRejection) -> T {
            let rounded = raw.rounded()
            guard rounded >= Double(T.min), rounded <= Double(T.max) else {
                throw .outOfRange("\(tag.name) = \(engineering) needs raw \(rounded), outside \(tag.type.rawValue) \(T.min)…\(T.max)")
            }
            return T(rounded)
        }
        switch tag.type {
        case .int16: bits = UInt64(UInt16(bitPattern: try integer(Int16.self)))
        case .uint16: bits = UInt64(try integer(UInt16.self))
        case .int32: bits = UInt64(UInt32(bitPattern: try integer(Int32.self)))
        case .uint32: bits = UInt64(try integer(UInt32.self))
        case .int64: bits = UInt64(bitPattern: try integer(Int64.self))
        case .float32: bits = UInt64(Float(raw).bitPattern)
        case .float64: bits = raw.bitPattern
        case .bool, .string: bits = 0
        }
        var words = (0..<tag.length).map { UInt16(truncatingIfNeeded: bits >> (16 * UInt64(tag.length - 1 - $0))) }
        if tag.wordOrder == .littleEndian { words.reverse() }
        if tag.byteOrder == .littleEndian { words = words.map(\.byteSwapped) }
        let confirmed = decode(registers: words[...], as: tag)
        let request: ModbusRequest = words.count == 1
            ? .writeSingleRegister(address: offset, value: words[0])
            : .writeMultipleRegisters(address: offset, values: words)
        return (request, confirmed)
    }
}

extension MetricValue {
    /// The value as a Double when it is a number (for scaling, deadbands and range checks).
    var number: Double? {
        switch self {
        case .int8(let v): Double(v)
        case .int16(let v): Double(v)
        case .int32(let v): Double(v)
        case .int64(let v): Double(v)
        case .uint8(let v): Double(v)
        case .uint16(let v): Double(v)
        case .uint32(let v): Double(v)
        case .uint64(let v): Double(v)
        case .float(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }
}
