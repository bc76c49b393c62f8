/// What a Modbus TCP server asks its owner: how to answer each request. Called on a connection's event loop
/// for every request, so an implementation must not block (take a short lock, never wait on I/O).
public protocol ModbusRequestHandler: Sendable {
    /// The answer to a decoded request addressed to `unit`.
    func reply(to request: ModbusRequest, unit: UInt8) -> ModbusReply
    /// The answer to a request the codec refused (unknown function, bad quantity); by default the exception.
    func reply(toInvalid exception: ModbusResponse, unit: UInt8) -> ModbusReply
    /// A client connected; for connection gauges.
    func connectionOpened()
    /// A client went away.
    func connectionClosed()
}

extension ModbusRequestHandler {
    public func reply(toInvalid exception: ModbusResponse, unit: UInt8) -> ModbusReply { .respond(exception) }
    public func connectionOpened() {}
    public func connectionClosed() {}
}

/// How a server answers one request: now, after a delay (a slow device), or not at all (a device that
/// stopped answering; the client times out).
public enum ModbusReply: Equatable, Sendable {
    case respond(ModbusResponse)
    case respondAfter(Duration, ModbusResponse)
    case noResponse
}
