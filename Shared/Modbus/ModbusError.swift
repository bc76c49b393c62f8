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
        /// A client could not open a TCP connection to its device.
        case connectFailed = "modbus.connect_failed"
        /// A device did not answer within the client's timeout.
        case timeout = "modbus.timeout"
        /// The connection broke while sending or receiving (reset, closed by the device).
        case connectionClosed = "modbus.connection_closed"
        /// The device answered with a Modbus exception; `exception` holds its code.
        case deviceException = "modbus.device_exception"
    }

    public let code: Code
    /// What was wrong, with the offending value and what is accepted.
    public let message: String
    /// The exception code a device answered with (only for `.deviceException`).
    public var exception: ModbusExceptionCode? = nil

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
