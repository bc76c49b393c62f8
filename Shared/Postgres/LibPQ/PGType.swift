import Foundation

/// PostgreSQL type OIDs this library reads and writes (from `pg_type.dat`; stable across server versions).
enum PGType {
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let name: UInt32 = 19
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let oid: UInt32 = 26
    static let json: UInt32 = 114
    static let float4: UInt32 = 700
    static let float8: UInt32 = 701
    static let unknown: UInt32 = 705
    static let bpchar: UInt32 = 1042
    static let varchar: UInt32 = 1043
    static let date: UInt32 = 1082
    static let timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184
    static let uuid: UInt32 = 2950
    static let jsonb: UInt32 = 3802

    /// PostgreSQL timestamps count microseconds from 2000-01-01 00:00 UTC.
    static let epochOffsetSeconds: Double = 946_684_800
}

/// Big-endian binary wire encodings (the `send`/`recv` functions of each type).
enum PGBinary {
    static func append<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }

    static func read<T: FixedWidthInteger>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer) -> T? {
        guard bytes.count == MemoryLayout<T>.size, let base = bytes.baseAddress else { return nil }
        return T(bigEndian: base.loadUnaligned(as: T.self))
    }

    static func microseconds(_ date: Date) -> Int64 {
        Int64(((date.timeIntervalSince1970 - PGType.epochOffsetSeconds) * 1_000_000).rounded())
    }

    /// Decodes one binary-format result value of type `oid`.
    static func decode(oid: UInt32, _ bytes: UnsafeRawBufferPointer) -> PostgresValue {
        switch oid {
        case PGType.int8: read(Int64.self, bytes).map(PostgresValue.int64) ?? .unsupported(typeOID: oid)
        case PGType.int4: read(Int32.self, bytes).map { .int64(Int64($0)) } ?? .unsupported(typeOID: oid)
        case PGType.int2: read(Int16.self, bytes).map { .int64(Int64($0)) } ?? .unsupported(typeOID: oid)
        case PGType.oid: read(UInt32.self, bytes).map { .int64(Int64($0)) } ?? .unsupported(typeOID: oid)
        case PGType.float8: read(UInt64.self, bytes).map { .double(Double(bitPattern: $0)) } ?? .unsupported(typeOID: oid)
        case PGType.float4: read(UInt32.self, bytes).map { .double(Double(Float(bitPattern: $0))) } ?? .unsupported(typeOID: oid)
        case PGType.bool: bytes.count == 1 ? .bool(bytes[0] != 0) : .unsupported(typeOID: oid)
        case PGType.text, PGType.varchar, PGType.bpchar, PGType.name, PGType.unknown, PGType.json:
            .text(String(decoding: bytes, as: UTF8.self))
        // jsonb's binary form is a version byte (1) followed by the JSON text.
        case PGType.jsonb: bytes.first == 1 ? .text(String(decoding: bytes.dropFirst(), as: UTF8.self)) : .unsupported(typeOID: oid)
        case PGType.bytea: .bytes([UInt8](bytes))
        case PGType.timestamptz, PGType.timestamp:
            read(Int64.self, bytes).map {
                .date(Date(timeIntervalSince1970: Double($0) / 1_000_000 + PGType.epochOffsetSeconds))
            } ?? .unsupported(typeOID: oid)
        case PGType.date:
            read(Int32.self, bytes).map {
                .date(Date(timeIntervalSince1970: Double($0) * 86_400 + PGType.epochOffsetSeconds))
            } ?? .unsupported(typeOID: oid)
        case PGType.uuid:
            bytes.count == 16 ? .text(uuidString(bytes)) : .unsupported(typeOID: oid)
        default: .unsupported(typeOID: oid)
        }
    }

    private static func uuidString(_ bytes: UnsafeRawBufferPointer) -> String {
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
