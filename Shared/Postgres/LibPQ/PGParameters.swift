/// Statement parameters laid out for `PQexecParams`: one contiguous byte buffer plus per-parameter type,
/// offset, length and format, so a 60 000-parameter multi-row INSERT costs one allocation, not 60 000.
struct PGParameters {
    var types: [UInt32] = []
    var offsets: [Int] = []  // -1 for NULL
    var lengths: [Int32] = []
    var formats: [Int32] = []
    var bytes: [UInt8] = []

    var count: Int { types.count }

    init(capacity: Int = 0) {
        types.reserveCapacity(capacity)
        offsets.reserveCapacity(capacity)
        lengths.reserveCapacity(capacity)
        formats.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity * 8)
    }

    init(_ values: [PostgresValue]) throws {
        self.init(capacity: values.count)
        for value in values { try append(value) }
    }

    /// Adds one parameter. Text goes untyped (oid 0) in text format so the server infers its type from the
    /// statement; everything else is binary with its exact type.
    mutating func append(_ value: PostgresValue) throws {
        switch value {
        case .null:
            add(type: 0, format: 0, offset: -1, length: 0)
            return
        case .text(let text):
            let start = bytes.count
            bytes.append(contentsOf: text.utf8)
            bytes.append(0)  // text-format parameters are C strings
            add(type: 0, format: 0, offset: start, length: Int32(bytes.count - start - 1))
            return
        case .unsupported(let oid):
            throw PostgresError(code: .unsupportedType, message: "a value of type oid \(oid) cannot be sent as a parameter",
                                context: "bind parameter \(count + 1)")
        default:
            break
        }
        let start = bytes.count
        let type: UInt32
        switch value {
        case .int64(let int):
            type = PGType.int8
            PGBinary.append(int, to: &bytes)
        case .double(let double):
            type = PGType.float8
            PGBinary.append(double.bitPattern, to: &bytes)
        case .bool(let bool):
            type = PGType.bool
            bytes.append(bool ? 1 : 0)
        case .bytes(let data):
            type = PGType.bytea
            bytes.append(contentsOf: data)
        case .date(let date):
            type = PGType.timestamptz
            PGBinary.append(PGBinary.microseconds(date), to: &bytes)
        case .null, .text, .unsupported:
            return
        }
        add(type: type, format: 1, offset: start, length: Int32(bytes.count - start))
    }

    private mutating func add(type: UInt32, format: Int32, offset: Int, length: Int32) {
        types.append(type)
        offsets.append(offset)
        lengths.append(length)
        formats.append(format)
    }

    /// Calls `body` with C arrays valid only for its duration.
    func withCArrays<R>(_ body: (_ types: UnsafePointer<UInt32>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?,
                                 _ lengths: UnsafePointer<Int32>?, _ formats: UnsafePointer<Int32>?) throws -> R) rethrows -> R {
        // An empty buffer has no base address; a zero-length bytea must still point somewhere or libpq sends NULL.
        let storage = bytes.isEmpty ? [0] : bytes
        return try storage.withUnsafeBytes { raw in
            let base = raw.baseAddress?.assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                guard offset >= 0, let base else { return nil }
                return UnsafePointer(base + offset)
            }
            return try values.withUnsafeBufferPointer { valuePointers in
                try types.withUnsafeBufferPointer { typePointers in
                    try lengths.withUnsafeBufferPointer { lengthPointers in
                        try formats.withUnsafeBufferPointer { formatPointers in
                            try body(typePointers.baseAddress, valuePointers.baseAddress, lengthPointers.baseAddress,
                                     formatPointers.baseAddress)
                        }
                    }
                }
            }
        }
    }
}
