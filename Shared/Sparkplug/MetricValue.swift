/// A typed Sparkplug value: one case per DataType, plus `.untyped` for values whose datatype was
/// left out on the wire (DATA and CMD messages): resolve those with `resolved(as:)` or an `AliasTable`.
///
/// Integers keep their Sparkplug meaning (an `Int8` is an `Int8`); DateTime values are milliseconds
/// since the Unix epoch, UTC. `.propertySet` and `.propertySetList` exist only inside a `PropertyValue`.
public enum MetricValue: Sendable, Equatable {
    case int8(Int8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case uint8(UInt8)
    case uint16(UInt16)
    case uint32(UInt32)
    case uint64(UInt64)
    case float(Float)
    case double(Double)
    case boolean(Bool)
    case string(String)
    /// Milliseconds since the Unix epoch, UTC.
    case dateTime(UInt64)
    case text(String)
    /// A textual UUID, carried as given.
    case uuid(String)
    case dataSet(DataSet)
    case bytes([UInt8])
    /// File contents; the file name and type travel in the metric's `MetaData`.
    case file([UInt8])
    case template(Template)
    case propertySet(PropertySet)
    case propertySetList([PropertySet])
    case int8Array([Int8])
    case int16Array([Int16])
    case int32Array([Int32])
    case int64Array([Int64])
    case uint8Array([UInt8])
    case uint16Array([UInt16])
    case uint32Array([UInt32])
    case uint64Array([UInt64])
    case floatArray([Float])
    case doubleArray([Double])
    case booleanArray([Bool])
    case stringArray([String])
    /// Milliseconds since the Unix epoch, UTC, one per element.
    case dateTimeArray([UInt64])
    /// A value as found on the wire without a datatype; `resolved(as:)` gives it its type.
    case untyped(UntypedValue)

    /// The DataType this value is sent as; nil for `.untyped`.
    public var datatype: DataType? {
        switch self {
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        case .uint16: .uint16
        case .uint32: .uint32
        case .uint64: .uint64
        case .float: .float
        case .double: .double
        case .boolean: .boolean
        case .string: .string
        case .dateTime: .dateTime
        case .text: .text
        case .uuid: .uuid
        case .dataSet: .dataSet
        case .bytes: .bytes
        case .file: .file
        case .template: .template
        case .propertySet: .propertySet
        case .propertySetList: .propertySetList
        case .int8Array: .int8Array
        case .int16Array: .int16Array
        case .int32Array: .int32Array
        case .int64Array: .int64Array
        case .uint8Array: .uint8Array
        case .uint16Array: .uint16Array
        case .uint32Array: .uint32Array
        case .uint64Array: .uint64Array
        case .floatArray: .floatArray
        case .doubleArray: .doubleArray
        case .booleanArray: .booleanArray
        case .stringArray: .stringArray
        case .dateTimeArray: .dateTimeArray
        case .untyped: nil
        }
    }

    /// Reads an `.untyped` value as `type` (the datatype its metric had in the BIRTH); a typed value
    /// must already have that type.
    public func resolved(as type: DataType, context label: String = "value") throws(SparkplugError) -> MetricValue {
        try typed(as: type, label)
    }

    /// `resolved(as:)` with the error context built only when something fails.
    func typed(as type: DataType, _ context: @autoclosure () -> String) throws(SparkplugError) -> MetricValue {
        switch self {
        case .untyped(let wire):
            return try MetricValue(wire: wire, as: type, context())
        default:
            guard datatype == type else {
                throw SparkplugError(.valueMismatch, context(),
                                     "value is \(datatype?.description ?? "untyped"), expected \(type)")
            }
            return self
        }
    }
}

/// A value exactly as one protobuf value member carries it, before a DataType gives it meaning.
public enum UntypedValue: Sendable, Equatable {
    /// `int_value` (uint32).
    case int(UInt32)
    /// `long_value` (uint64).
    case long(UInt64)
    case float(Float)
    case double(Double)
    case boolean(Bool)
    case string(String)
    case bytes([UInt8])
    case dataSet(DataSet)
    case template(Template)
    case propertySet(PropertySet)
    case propertySetList([PropertySet])

    /// The protobuf member name, for error messages.
    var member: String {
        switch self {
        case .int: "int_value"
        case .long: "long_value"
        case .float: "float_value"
        case .double: "double_value"
        case .boolean: "boolean_value"
        case .string: "string_value"
        case .bytes: "bytes_value"
        case .dataSet: "dataset_value"
        case .template: "template_value"
        case .propertySet: "propertyset_value"
        case .propertySetList: "propertysets_value"
        }
    }
}

// MARK: - Mapping between typed values and wire members

extension MetricValue {
    /// The wire member carrying this value (Sparkplug 3.0 value-field table).
    /// Signed 8/16/32-bit integers are sign-extended to 32 bits, as Tahu C and Java do.
    func wire(_ context: @autoclosure () -> String) throws(SparkplugError) -> UntypedValue {
        switch self {
        case .int8(let v): return .int(UInt32(bitPattern: Int32(v)))
        case .int16(let v): return .int(UInt32(bitPattern: Int32(v)))
        case .int32(let v): return .int(UInt32(bitPattern: v))
        case .int64(let v): return .long(UInt64(bitPattern: v))
        case .uint8(let v): return .int(UInt32(v))
        case .uint16(let v): return .int(UInt32(v))
        // Sparkplug 3.0: UInt32 goes in int_value (legacy Tahu used long_value; we accept both).
        case .uint32(let v): return .int(v)
        case .uint64(let v): return .long(v)
        case .float(let v): return .float(v)
        case .double(let v): return .double(v)
        case .boolean(let v): return .boolean(v)
        case .string(let v), .text(let v), .uuid(let v): return .string(v)
        case .dateTime(let v): return .long(v)
        case .dataSet(let v): return .dataSet(v)
        case .bytes(let v), .file(let v): return .bytes(v)
        case .template(let v): return .template(v)
        case .propertySet(let v): return .propertySet(v)
        case .propertySetList(let v): return .propertySetList(v)
        case .int8Array(let v): return .bytes(PackedArray.pack(v))
        case .int16Array(let v): return .bytes(PackedArray.pack(v))
        case .int32Array(let v): return .bytes(PackedArray.pack(v))
        case .int64Array(let v): return .bytes(PackedArray.pack(v))
        case .uint8Array(let v): return .bytes(v)
        case .uint16Array(let v): return .bytes(PackedArray.pack(v))
        case .uint32Array(let v): return .bytes(PackedArray.pack(v))
        case .uint64Array(let v): return .bytes(PackedArray.pack(v))
        case .floatArray(let v): return .bytes(PackedArray.pack(v.map(\.bitPattern)))
        case .doubleArray(let v): return .bytes(PackedArray.pack(v.map(\.bitPattern)))
        case .booleanArray(let v): return .bytes(PackedArray.packBooleans(v))
        case .stringArray(let v): return .bytes(try PackedArray.packStrings(v, context()))
        case .dateTimeArray(let v): return .bytes(PackedArray.pack(v))
        case .untyped(let v): return v
        }
    }

    /// Gives a wire value its DataType, checking that the member and the range fit.
    init(wire: UntypedValue, as type: DataType, _ context: @autoclosure () -> String) throws(SparkplugError) {
        func mismatch() -> SparkplugError {
            SparkplugError(.valueMismatch, context(), "datatype \(type) cannot be carried in \(wire.member)")
        }
        func outOfRange(_ raw: some BinaryInteger) -> SparkplugError {
            SparkplugError(.valueOutOfRange, context(), "\(wire.member) \(raw) does not fit datatype \(type)")
        }
        switch (type, wire) {
        // Signed small integers: accept Tahu's sign extension to 32 bits and the width-truncated form
        // some Python libraries send (-1 as 0xFF); anything else is out of range.
        case (.int8, .int(let raw)):
            guard raw <= 0xFF || raw >= 0xFFFF_FF80 else { throw outOfRange(raw) }
            self = .int8(Int8(truncatingIfNeeded: raw))
        case (.int16, .int(let raw)):
            guard raw <= 0xFFFF || raw >= 0xFFFF_8000 else { throw outOfRange(raw) }
            self = .int16(Int16(truncatingIfNeeded: raw))
        case (.int32, .int(let raw)): self = .int32(Int32(bitPattern: raw))
        case (.int64, .long(let raw)): self = .int64(Int64(bitPattern: raw))
        case (.uint8, .int(let raw)):
            guard let v = UInt8(exactly: raw) else { throw outOfRange(raw) }
            self = .uint8(v)
        case (.uint16, .int(let raw)):
            guard let v = UInt16(exactly: raw) else { throw outOfRange(raw) }
            self = .uint16(v)
        case (.uint32, .int(let raw)): self = .uint32(raw)
        case (.uint32, .long(let raw)):
            guard let v = UInt32(exactly: raw) else { throw outOfRange(raw) }
            self = .uint32(v)
        case (.uint64, .long(let raw)): self = .uint64(raw)
        case (.float, .float(let v)): self = .float(v)
        case (.double, .double(let v)): self = .double(v)
        case (.boolean, .boolean(let v)): self = .boolean(v)
        case (.string, .string(let v)): self = .string(v)
        case (.dateTime, .long(let v)): self = .dateTime(v)
        case (.text, .string(let v)): self = .text(v)
        case (.uuid, .string(let v)): self = .uuid(v)
        case (.dataSet, .dataSet(let v)): self = .dataSet(v)
        case (.bytes, .bytes(let v)): self = .bytes(v)
        case (.file, .bytes(let v)): self = .file(v)
        case (.template, .template(let v)): self = .template(v)
        case (.propertySet, .propertySet(let v)): self = .propertySet(v)
        case (.propertySetList, .propertySetList(let v)): self = .propertySetList(v)
        case (.int8Array, .bytes(let b)): self = .int8Array(try PackedArray.unpack(b, type, context()))
        case (.int16Array, .bytes(let b)): self = .int16Array(try PackedArray.unpack(b, type, context()))
        case (.int32Array, .bytes(let b)): self = .int32Array(try PackedArray.unpack(b, type, context()))
        case (.int64Array, .bytes(let b)): self = .int64Array(try PackedArray.unpack(b, type, context()))
        case (.uint8Array, .bytes(let b)): self = .uint8Array(b)
        case (.uint16Array, .bytes(let b)): self = .uint16Array(try PackedArray.unpack(b, type, context()))
        case (.uint32Array, .bytes(let b)): self = .uint32Array(try PackedArray.unpack(b, type, context()))
        case (.uint64Array, .bytes(let b)): self = .uint64Array(try PackedArray.unpack(b, type, context()))
        case (.floatArray, .bytes(let b)):
            let bits: [UInt32] = try PackedArray.unpack(b, type, context())
            self = .floatArray(bits.map(Float.init(bitPattern:)))
        case (.doubleArray, .bytes(let b)):
            let bits: [UInt64] = try PackedArray.unpack(b, type, context())
            self = .doubleArray(bits.map(Double.init(bitPattern:)))
        case (.booleanArray, .bytes(let b)): self = .booleanArray(try PackedArray.unpackBooleans(b, context()))
        case (.stringArray, .bytes(let b)): self = .stringArray(try PackedArray.unpackStrings(b, context()))
        case (.dateTimeArray, .bytes(let b)): self = .dateTimeArray(try PackedArray.unpack(b, type, context()))
        case (.unknown, _):
            throw SparkplugError(.unknownDataType, context(), "datatype Unknown (0) cannot carry a value")
        default:
            throw mismatch()
        }
    }
}

/// The packed byte layouts of the Sparkplug array types (all little-endian).
enum PackedArray {
    /// Packs fixed-width integers little-endian, back to back.
    static func pack<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * MemoryLayout<T>.size)
        for value in values {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Reads back-to-back little-endian integers; the length must be a whole number of elements.
    static func unpack<T: FixedWidthInteger>(_ bytes: [UInt8], _ type: DataType,
                                             _ context: @autoclosure () -> String) throws(SparkplugError) -> [T] {
        let size = MemoryLayout<T>.size
        guard bytes.count % size == 0 else {
            throw SparkplugError(.malformedArray, context(),
                                 "\(type) needs a multiple of \(size) bytes, got \(bytes.count)")
        }
        var out: [T] = []
        out.reserveCapacity(bytes.count / size)
        var index = 0
        while index < bytes.count {
            var value: T = 0
            for byte in 0..<size {
                value |= T(truncatingIfNeeded: bytes[index + byte]) << (8 * byte)
            }
            out.append(value)
            index += size
        }
        return out
    }

    /// Sparkplug BooleanArray: a 4-byte little-endian count, then the bits MSB-first, zero-padded.
    static func packBooleans(_ values: [Bool]) -> [UInt8] {
        var out = pack([UInt32(truncatingIfNeeded: values.count)])
        var byte: UInt8 = 0
        for (index, value) in values.enumerated() {
            if value { byte |= 0x80 >> UInt8(index % 8) }
            if index % 8 == 7 {
                out.append(byte)
                byte = 0
            }
        }
        if values.count % 8 != 0 { out.append(byte) }
        return out
    }

    /// Reads a BooleanArray, requiring exactly as many packed bytes as the count needs.
    static func unpackBooleans(_ bytes: [UInt8], _ context: @autoclosure () -> String) throws(SparkplugError) -> [Bool] {
        guard bytes.count >= 4 else {
            throw SparkplugError(.malformedArray, context(),
                                 "BooleanArray needs a 4-byte count, got \(bytes.count) bytes")
        }
        let count = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        let needed = (count + 7) / 8
        guard bytes.count - 4 == needed else {
            throw SparkplugError(.malformedArray, context(),
                                 "BooleanArray of \(count) values needs \(needed) packed bytes, got \(bytes.count - 4)")
        }
        var out: [Bool] = []
        out.reserveCapacity(count)
        for index in 0..<count {
            out.append(bytes[4 + index / 8] & (0x80 >> UInt8(index % 8)) != 0)
        }
        return out
    }

    /// Sparkplug StringArray: UTF-8 strings, each followed by a 0x00 byte.
    static func packStrings(_ values: [String], _ context: @autoclosure () -> String) throws(SparkplugError) -> [UInt8] {
        var out: [UInt8] = []
        for value in values {
            let utf8 = Array(value.utf8)
            guard !utf8.contains(0) else {
                throw SparkplugError(.unencodable, context(), "StringArray element contains a NUL byte")
            }
            out.append(contentsOf: utf8)
            out.append(0)
        }
        return out
    }

    /// Reads a StringArray; the bytes must end with the last terminator and be valid UTF-8.
    static func unpackStrings(_ bytes: [UInt8], _ context: @autoclosure () -> String) throws(SparkplugError) -> [String] {
        guard bytes.isEmpty || bytes.last == 0 else {
            throw SparkplugError(.malformedArray, context(), "StringArray does not end with a 0x00 terminator")
        }
        var out: [String] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 0 {
            guard let string = String(validating: bytes[start..<index], as: UTF8.self) else {
                throw SparkplugError(.invalidString, context(),
                                     "StringArray element \(out.count) is not valid UTF-8")
            }
            out.append(string)
            start = index + 1
        }
        return out
    }
}
