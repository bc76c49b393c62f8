import Foundation

/// A `.safetensors` file read into memory: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian tensor bytes.
struct SafeTensors {
    /// One tensor's place in the file.
    struct Entry {
        let dtype: String
        let shape: [Int]
        let start: Int
        let end: Int
    }

    private let bytes: Data
    private let dataStart: Int
    let entries: [String: Entry]
    let path: String

    /// Reads and validates the header; tensor bytes are converted lazily by `floats(_:)`.
    init(path: String) throws(RagError) {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RagError(code: .modelMissing, message: "cannot read \(path); run scripts/fetch-model.sh",
                           context: "load model")
        }
        guard data.count >= 8 else { throw Self.invalid(path, "file is \(data.count) bytes, shorter than its header") }
        var headerLength = 0
        for index in 0..<8 { headerLength |= Int(data[data.startIndex + index]) << (8 * index) }
        guard headerLength > 0, headerLength <= data.count - 8 else {
            throw Self.invalid(path, "header length \(headerLength) does not fit a \(data.count)-byte file")
        }
        let headerData = data.subdata(in: data.startIndex + 8 ..< data.startIndex + 8 + headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw Self.invalid(path, "header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        let payload = data.count - 8 - headerLength
        for (name, value) in header where name != "__metadata__" {
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int],
                  offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= payload
            else { throw Self.invalid(path, "tensor \(name) has a malformed header entry") }
            entries[name] = Entry(dtype: dtype, shape: shape, start: offsets[0], end: offsets[1])
        }
        self.bytes = data
        self.dataStart = data.startIndex + 8 + headerLength
        self.entries = entries
    }

    /// The tensor `name` as row-major Float32 values; F32, F16 and BF16 tensors are accepted.
    func floats(_ name: String, shape expected: [Int]) throws(RagError) -> [Float] {
        guard let entry = entries[name] else { throw Self.invalid(path, "tensor \(name) is missing") }
        guard entry.shape == expected else {
            throw Self.invalid(path, "tensor \(name) has shape \(entry.shape), expected \(expected)")
        }
        let count = expected.reduce(1, *)
        let width: Int
        switch entry.dtype {
        case "F32": width = 4
        case "F16", "BF16": width = 2
        default: throw Self.invalid(path, "tensor \(name) has dtype \(entry.dtype); F32, F16 or BF16 accepted")
        }
        guard entry.end - entry.start == count * width else {
            throw Self.invalid(path, "tensor \(name) holds \(entry.end - entry.start) bytes, expected \(count * width)")
        }
        let dtype = entry.dtype
        let start = dataStart + entry.start
        return bytes.withUnsafeBytes { raw in
            // The header check above proved the range lies inside the file, so the buffer is non-empty.
            guard let baseAddress = raw.baseAddress else { return [Float](repeating: 0, count: count) }
            let base = baseAddress + (start - bytes.startIndex)
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for index in 0..<count {
                    switch dtype {
                    case "F32":
                        buffer[index] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(
                            fromByteOffset: index * 4, as: UInt32.self)))
                    case "F16":
                        buffer[index] = Self.half(UInt16(littleEndian: base.loadUnaligned(
                            fromByteOffset: index * 2, as: UInt16.self)))
                    default:
                        buffer[index] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(
                            fromByteOffset: index * 2, as: UInt16.self))) << 16)
                    }
                }
                initialized = count
            }
        }
    }

    /// IEEE 754 binary16 to Float, by hand so the loader does not depend on `Float16` being available.
    static func half(_ bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int((bits >> 10) & 0x1f)
        let mantissa = UInt32(bits & 0x3ff)
        if exponent == 0 {
            // Subnormal (or zero): mantissa × 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }

    private static func invalid(_ path: String, _ message: String) -> RagError {
        RagError(code: .invalidModel, message: "\(path): \(message)", context: "load model")
    }
}
