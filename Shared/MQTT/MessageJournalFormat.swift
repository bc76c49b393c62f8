import Foundation

/// The on-disk layout of a `MessageJournal`, kept apart from the file handling so it is unit-testable
/// without I/O.
///
/// File: a 16-byte header (`SFJ1`, base position as UInt64 LE, CRC-32 of those 12 bytes as UInt32 LE),
/// then records. Record: body length (UInt32 LE), CRC-32 of the body (UInt32 LE), body. Body: QoS (UInt8),
/// retain (UInt8), 2 reserved bytes, receive time in nanoseconds since 1970 (Int64 LE), topic length
/// (UInt32 LE), topic (UTF-8), payload. The base position is the logical position of the first record,
/// so positions stay valid when compaction drops acknowledged records from the front of the file.
enum MessageJournalFormat {
    static let magic: [UInt8] = Array("SFJ1".utf8)
    static let headerSize = 16
    static let recordHeaderSize = 8
    static let fixedBodySize = 16
    /// Larger lengths mean a corrupt length field (MQTT payloads are far smaller in Shopfloor).
    static let maximumBodySize = 64 << 20

    static func header(base: UInt64) -> [UInt8] {
        var bytes = magic
        append(base, to: &bytes)
        append(CRC32.checksum(bytes), to: &bytes)
        return bytes
    }

    /// The base position, or nil when `bytes` is not a valid header.
    static func base(fromHeader bytes: ArraySlice<UInt8>) -> UInt64? {
        guard bytes.count >= headerSize, Array(bytes.prefix(4)) == magic else { return nil }
        let start = bytes.startIndex
        guard CRC32.checksum(Array(bytes[start..<start + 12])) == read(UInt32.self, bytes, at: start + 12) else { return nil }
        return read(UInt64.self, bytes, at: start + 4)
    }

    /// Appends one framed record to `buffer`.
    static func encode(_ message: MQTTMessage, receivedNanoseconds: Int64, into buffer: inout [UInt8]) {
        let bodyLength = fixedBodySize + message.topic.utf8.count + message.payload.count
        let start = buffer.count
        append(UInt32(bodyLength), to: &buffer)
        append(UInt32(0), to: &buffer)
        buffer.append(UInt8(message.qos.rawValue))
        buffer.append(message.retain ? 1 : 0)
        buffer.append(contentsOf: [0, 0])
        append(UInt64(bitPattern: receivedNanoseconds), to: &buffer)
        append(UInt32(message.topic.utf8.count), to: &buffer)
        buffer.append(contentsOf: message.topic.utf8)
        buffer.append(contentsOf: message.payload)
        let crc = buffer.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 8)...])) }
        buffer.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self) }
    }

    /// Result of decoding at one offset of a buffer.
    enum Decoded {
        /// A whole, valid record and its total framed size.
        case record(qos: MQTTQoS, retain: Bool, receivedNanoseconds: Int64, topic: String, payload: [UInt8], size: Int)
        /// The buffer ends inside the record; `needed` bytes from the offset would hold it.
        case incomplete(needed: Int)
        /// Length, checksum or content is wrong: the journal ends before this record.
        case corrupt(String)
    }

    /// Decodes the record starting at `offset` of `bytes`.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Decoded {
        let available = bytes.count - offset
        guard available >= recordHeaderSize else { return .incomplete(needed: recordHeaderSize) }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        guard length >= fixedBodySize, length <= maximumBodySize else { return .corrupt("record length \(length) out of range") }
        guard available >= recordHeaderSize + length else { return .incomplete(needed: recordHeaderSize + length) }
        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + recordHeaderSize)..<(offset + recordHeaderSize + length)])
        guard CRC32.checksum(body) == crc else { return .corrupt("checksum mismatch") }
        guard let qos = MQTTQoS(rawValue: Int32(body[0])) else { return .corrupt("QoS \(body[0]) invalid") }
        let received = Int64(bitPattern: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 4, as: UInt64.self)))
        let topicLength = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        guard topicLength <= length - fixedBodySize else { return .corrupt("topic length \(topicLength) exceeds the record") }
        let topicBytes = UnsafeRawBufferPointer(rebasing: body[fixedBodySize..<(fixedBodySize + topicLength)])
        guard let topic = String(validating: topicBytes, as: UTF8.self) else { return .corrupt("topic is not UTF-8") }
        let payload = Array(UnsafeRawBufferPointer(rebasing: body[(fixedBodySize + topicLength)...]))
        return .record(qos: qos, retain: body[1] == 1, receivedNanoseconds: received, topic: topic, payload: payload,
                       size: recordHeaderSize + length)
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func read<T: FixedWidthInteger>(_ type: T.Type, _ bytes: ArraySlice<UInt8>, at index: Int) -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { target in
            for offset in 0..<MemoryLayout<T>.size { target[offset] = bytes[index + offset] }
        }
        return T(littleEndian: value)
    }
}
