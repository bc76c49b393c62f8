/// A Modbus TCP application data unit: the MBAP header (transaction id, protocol id 0, length, unit id) and
/// the PDU it carries. Pure bytes in, bytes out, so a server and a client share it.
public struct ModbusFrame: Equatable, Sendable {
    /// The MBAP header is 7 bytes: transaction id (2), protocol id (2), length (2), unit id (1).
    public static let headerSize = 7
    /// The length field counts the unit id and the PDU; a PDU is 1…253 bytes (section 4.1).
    public static let lengthRange: ClosedRange<Int> = 2...254

    public var transactionID: UInt16
    public var unitID: UInt8
    /// Function code followed by its data.
    public var pdu: [UInt8]

    public init(transactionID: UInt16, unitID: UInt8, pdu: [UInt8]) {
        self.transactionID = transactionID
        self.unitID = unitID
        self.pdu = pdu
    }

    /// The frame as it goes on the wire.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerSize + pdu.count)
        append(to: &bytes)
        return bytes
    }

    /// Appends the wire form to `bytes`, so a writer can batch several frames into one buffer.
    public func append(to bytes: inout [UInt8]) {
        let length = UInt16(pdu.count + 1)
        bytes.append(UInt8(transactionID >> 8))
        bytes.append(UInt8(transactionID & 0xFF))
        bytes.append(0)
        bytes.append(0)
        bytes.append(UInt8(length >> 8))
        bytes.append(UInt8(length & 0xFF))
        bytes.append(unitID)
        bytes.append(contentsOf: pdu)
    }

    /// Reads the MBAP header at the start of `bytes` and returns how many bytes the whole frame takes, or nil
    /// while fewer than 7 bytes have arrived. Throws when the header is not valid Modbus TCP: a stream that
    /// sends one has lost sync and the connection should be closed.
    public static func frameSize(in bytes: some Collection<UInt8>) throws(ModbusError) -> Int? {
        guard bytes.count >= headerSize else { return nil }
        var index = bytes.startIndex
        func next() -> Int {
            let value = Int(bytes[index])
            index = bytes.index(after: index)
            return value
        }
        _ = next(); _ = next()
        let protocolID = next() << 8 | next()
        guard protocolID == 0 else {
            throw ModbusError(.invalidProtocolID, "MBAP protocol identifier is \(protocolID); Modbus TCP uses 0")
        }
        let length = next() << 8 | next()
        guard lengthRange.contains(length) else {
            throw ModbusError(
                .invalidLength,
                "MBAP length is \(length); it must be in \(lengthRange.lowerBound)…\(lengthRange.upperBound)")
        }
        return 6 + length
    }

    /// Decodes the first complete frame in `bytes` and the number of bytes it used; nil while the frame is
    /// still incomplete (a TCP read may end anywhere, and one read may carry several frames).
    public static func decode(from bytes: ArraySlice<UInt8>) throws(ModbusError) -> (frame: ModbusFrame, size: Int)? {
        guard let size = try frameSize(in: bytes), bytes.count >= size else { return nil }
        let start = bytes.startIndex
        let frame = ModbusFrame(
            transactionID: UInt16(bytes[start]) << 8 | UInt16(bytes[start + 1]),
            unitID: bytes[start + 6],
            pdu: Array(bytes[(start + 7)..<(start + size)]))
        return (frame, size)
    }
}
