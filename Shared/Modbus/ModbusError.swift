/// Everything that can go wrong in the Modbus library: a frame or PDU that cannot be decoded, or a server that
/// cannot listen. `code` is stable (log queries and tests match on it); `description` says what was wrong and
/// what is accepted.
public struct ModbusError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The stable error kinds.
    public enum Code: String, Sendable {
        /// The MBAP header's protocol identifier is not 0 (this is not Modbus, or the stream lost sync).
        case invalidProtocolID = "modbus.invalid_protocol_id"
        /// The MBAP length field is outside 2…254.
        case invalidLength = "modbus.invalid_length"
        /// A PDU is shorter or longer than its function code requires, or its byte count disagrees.
        case malformedPDU = "modbus.malformed_pdu"
        /// A response does not answer the request it was matched with.
        case unexpectedResponse = "modbus.unexpected_response"
        /// A server could not bind its address.
        case bindFailed = "modbus.bind_failed"
    }

    public let code: Code
    /// What was wrong, with the offending value and what is accepted.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
