import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 response as the tests see it.
struct HTTPResult: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data

    /// The body as JSON (`[String: Any]` or `[Any]`), nil when it is not JSON.
    var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// `error.code` of a JSON error body.
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String { ((object["error"] as? [String: Any])?["message"] as? String) ?? "" }
}

/// A tiny raw-socket HTTP/1.1 client (no URLSession, no AsyncHTTPClient): one connection per request with
/// `Connection: close`. Blocking socket calls run on a dedicated queue, off the cooperative pool.
struct TestHTTPClient: Sendable {
    let port: Int
    var token: String?
    private static let queue = DispatchQueue(label: "api-tests.http", attributes: .concurrent)

    func get(_ path: String, token: String? = nil) async throws -> HTTPResult {
        try await send("GET", path, token: token)
    }

    func post(_ path: String, json: Any? = nil, raw: String? = nil, contentType: String = "application/json",
              token: String? = nil) async throws -> HTTPResult {
        var body: Data?
        if let json { body = try JSONSerialization.data(withJSONObject: json) }
        if let raw { body = Data(raw.utf8) }
        return try await send("POST", path, body: body, contentType: contentType, token: token)
    }

    func delete(_ path: String, token: String? = nil) async throws -> HTTPResult {
        try await send("DELETE", path, token: token)
    }

    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json",
              token: String? = nil, headers extra: [String: String] = [:]) async throws -> HTTPResult {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let bearer = token ?? self.token { head += "Authorization: Bearer \(bearer)\r\n" }
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        let request = Data(head.utf8) + (body ?? Data())
        let port = self.port
        let raw: Data = try await withCheckedThrowingContinuation { continuation in
            Self.queue.async {
                continuation.resume(with: Result { try Self.exchange(port: port, request: request) })
            }
        }
        return try Self.parse(raw)
    }

    /// Connects, writes the request and reads until the server closes.
    static func exchange(port: Int, request: Data) throws -> Data {
        let fd = try connectSocket(port: port)
        defer { close(fd) }
        try writeAll(fd, request)
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        return response
    }

    static func connectSocket(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestHTTPError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw TestHTTPError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
        return fd
    }

    static func writeAll(_ fd: Int32, _ data: Data) throws {
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw TestHTTPError("write failed: errno \(errno)") }
            offset += n
        }
    }

    static func parse(_ raw: Data) throws -> HTTPResult {
        let separator = Data("\r\n\r\n".utf8)
        guard let range = raw.range(of: separator) else {
            throw TestHTTPError("no HTTP header in \(raw.count) bytes: \(String(decoding: raw.prefix(200), as: UTF8.self))")
        }
        let head = String(decoding: raw[..<range.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else {
            throw TestHTTPError("bad status line \(head.first ?? "")")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(raw[range.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return HTTPResult(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
            let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            let end = rest.index(start, offsetBy: size, limitedBy: rest.endIndex) ?? rest.endIndex
            out.append(rest[start..<end])
            rest = rest[min(rest.endIndex, rest.index(end, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex)...]
        }
        return out
    }
}

/// A failure of the test client itself (not of the server under test).
struct TestHTTPError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads a server-sent event stream line by line on its own thread; `lines` yields each non-empty line.
final class SSEReader: Sendable {
    let lines: AsyncStream<String>
    private let fd: Int32

    init(port: Int, path: String, token: String) throws {
        fd = try TestHTTPClient.connectSocket(port: port)
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer \(token)\r\n\r\n"
        try TestHTTPClient.writeAll(fd, Data(request.utf8))
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream
        let fd = self.fd
        let thread = Thread {
            // Bytes, not String: "\r\n" is one Character, so a String search for "\n" would miss it.
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 8192)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                pending += buffer[0..<n]
                while let newline = pending.firstIndex(of: 10) {
                    var line = Array(pending[..<newline])
                    pending.removeSubrange(...newline)
                    if line.last == 13 { line.removeLast() }
                    if !line.isEmpty { continuation.yield(String(decoding: line, as: UTF8.self)) }
                }
            }
            continuation.finish()
        }
        thread.start()
    }

    /// Stops reading (the reader thread sees EOF/error and ends the stream).
    func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    deinit { Glibc.close(fd) }
}
