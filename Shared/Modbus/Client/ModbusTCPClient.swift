import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc

// The POSIX calls by module, since the client's own `send`/`close` methods shadow the bare names.
private let posixSocket = Glibc.socket
private let posixConnect = Glibc.connect
private let posixSend = Glibc.send
private let posixClose = Glibc.close
private let noSignal = Int32(MSG_NOSIGNAL)
private let streamSocket = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
import Darwin

private let posixSocket = Darwin.socket
private let posixConnect = Darwin.connect
private let posixSend = Darwin.send
private let posixClose = Darwin.close
private let noSignal: Int32 = 0  // Darwin: SO_NOSIGPIPE would be set on the socket instead
private let streamSocket = SOCK_STREAM
#endif

/// A Modbus TCP client for one device: one TCP connection, one request at a time.
///
/// Requests run on the client's own serial `DispatchQueue` with blocking POSIX socket calls bounded by
/// `timeout` (connect, send and receive), so no Swift concurrency thread ever waits on the network. The
/// connection is opened on the first request and after any failure: a timeout or a broken stream closes it,
/// because a late answer would otherwise be matched with the next request. Backoff between reconnects is the
/// caller's policy (the gateway's poller), not the client's.
///
/// ```swift
/// let client = ModbusTCPClient(host: "127.0.0.1", port: 5020, timeout: .seconds(1))
/// let response = try await client.send(.readHoldingRegisters(address: 0, count: 10), unit: 1)
/// ```
public final class ModbusTCPClient: @unchecked Sendable {
    // @unchecked Sendable: `socket` and `nextTransaction` are only read and written inside `queue.async`
    // blocks; the queue is serial, so they are never touched by two threads at once.
    private let queue: DispatchQueue
    private var socket: Int32 = -1
    private var nextTransaction: UInt16 = 0

    public let host: String
    public let port: Int
    /// Bound for connecting, and for the whole exchange of one request and its response.
    public let timeout: Duration

    /// Creates a client; nothing is connected until the first request.
    public init(host: String, port: Int, timeout: Duration = .seconds(1)) {
        self.host = host
        self.port = port
        self.timeout = timeout
        queue = DispatchQueue(label: "shopfloor.modbus.client.\(host):\(port)")
    }

    deinit {
        if socket >= 0 { _ = closeSocket(socket) }
    }

    /// Sends `request` to `unit` and returns the device's answer. Throws `.deviceException` (with
    /// `exception` set) when the device refuses the request, `.timeout`, `.connectFailed` or
    /// `.connectionClosed` for network failures, `.malformedPDU`/`.unexpectedResponse` for a broken answer.
    public func send(_ request: ModbusRequest, unit: UInt8) async throws(ModbusError) -> ModbusResponse {
        let result: Result<ModbusResponse, ModbusError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.exchange(request, unit: unit))
            }
        }
        return try result.get()
    }

    /// Closes the connection (the next request opens a new one).
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.disconnect()
                continuation.resume()
            }
        }
    }

    // MARK: On `queue` only

    private var timeoutMilliseconds: Int32 {
        let (seconds, attoseconds) = timeout.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    private func disconnect() {
        if socket >= 0 { _ = closeSocket(socket) }
        socket = -1
    }

    private func exchange(_ request: ModbusRequest, unit: UInt8) -> Result<ModbusResponse, ModbusError> {
        do throws(ModbusError) {
            if socket < 0 { socket = try openConnection() }
            nextTransaction &+= 1
            let transaction = nextTransaction
            let frame = ModbusFrame(transactionID: transaction, unitID: unit, pdu: request.encoded)
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMilliseconds) * 1_000_000
            try write(frame.encoded)
            var buffer: [UInt8] = []
            while true {
                if let (answer, size) = try ModbusFrame.decode(from: buffer[...]) {
                    buffer.removeFirst(size)
                    // A late answer to an earlier, timed-out request cannot happen (the connection was
                    // closed then), but a device echoing a wrong id is skipped rather than trusted.
                    guard answer.transactionID == transaction else { continue }
                    let response = try ModbusResponse.decode(pdu: answer.pdu, answering: request)
                    if case .exception(let function, let code) = response {
                        var error = ModbusError(
                            .deviceException,
                            "\(host):\(port) unit \(unit) answered function \(function) with \(code)")
                        error.exception = code
                        throw error
                    }
                    return .success(response)
                }
                try read(into: &buffer, deadline: deadline)
            }
        } catch {
            // After a device exception the stream is still in step; after anything else it may not be.
            if error.code != .deviceException { disconnect() }
            return .failure(error)
        }
    }

    private func openConnection() throws(ModbusError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamSocket
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw ModbusError(.connectFailed, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = posixSocket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            // Non-blocking connect bounded by poll(): a blocking connect to a dead host waits minutes.
            let flags = fcntl(fd, F_GETFL, 0)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var result = posixConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            if result != 0 && errno == EINPROGRESS {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&descriptor, 1, timeoutMilliseconds)
                if ready == 1 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    result = error == 0 ? 0 : -1
                    lastError = error == 0 ? "" : String(cString: strerror(error))
                } else {
                    lastError = ready == 0 ? "no answer within \(timeout)" : String(cString: strerror(errno))
                }
            } else if result != 0 {
                lastError = String(cString: strerror(errno))
            }
            if result == 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            _ = closeSocket(fd)
        }
        throw ModbusError(.connectFailed, "cannot connect to \(host):\(port): \(lastError)")
    }

    private func write(_ bytes: [UInt8]) throws(ModbusError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return posixSend(socket, base + sent, bytes.count - sent, noSignal)
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    var descriptor = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                    if poll(&descriptor, 1, timeoutMilliseconds) <= 0 {
                        throw ModbusError(.timeout, "\(host):\(port) did not accept the request within \(timeout)")
                    }
                    continue
                }
                throw ModbusError(.connectionClosed, "sending to \(host):\(port): \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw ModbusError(.connectionClosed, "sending to \(host):\(port): nothing was written") }
            sent += n
        }
    }

    private func read(into buffer: inout [UInt8], deadline: UInt64) throws(ModbusError) {
        let now = DispatchTime.now().uptimeNanoseconds
        let remaining = deadline > now ? Int32(clamping: (deadline - now) / 1_000_000) : 0
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, max(remaining, 0))
        if ready == 0 { throw ModbusError(.timeout, "\(host):\(port) did not answer within \(timeout)") }
        if ready < 0 {
            if errno == EINTR { return }
            throw ModbusError(.connectionClosed, "waiting for \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var chunk = [UInt8](repeating: 0, count: 512)
        let n = chunk.withUnsafeMutableBytes { raw in recv(socket, raw.baseAddress, raw.count, 0) }
        if n == 0 { throw ModbusError(.connectionClosed, "\(host):\(port) closed the connection") }
        if n < 0 {
            if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { return }
            throw ModbusError(.connectionClosed, "receiving from \(host):\(port): \(String(cString: strerror(errno)))")
        }
        buffer.append(contentsOf: chunk[0..<n])
    }
}

/// `close(2)`, under a name that does not clash with the client's `close()`.
private func closeSocket(_ fd: Int32) -> Int32 { posixClose(fd) }
