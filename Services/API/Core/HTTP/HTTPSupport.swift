import EventSchema
import Foundation
import Hummingbird
import Synchronization

/// A route as the OpenAPI document names it (`GET /v1/workorders/{id}`); `RouteTable` records every
/// registration so a test can compare the router with `/openapi.json`.
public struct RouteSpec: Sendable, Hashable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var description: String { "\(method) \(path)" }
}

/// Every route the api registered, in order.
public final class RouteTable: Sendable {
    private let routes = Mutex<[RouteSpec]>([])
    public init() {}
    func record(_ spec: RouteSpec) { routes.withLock { $0.append(spec) } }
    public var all: [RouteSpec] { routes.withLock { $0 } }
}

/// JSON in and out, the error body and the query-parameter parsing every handler shares.
enum HTTPJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response of `value`.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return raw(Array(data), status: status)
    }

    /// A response whose body is already encoded JSON.
    static func raw(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, contentType: String = "application/json") -> Response {
        Response(status: status, headers: [.contentType: contentType],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"error":{"code":…,"message":…}}` with the code's status.
    static func error(_ error: APIError, headers extra: HTTPFields = [:]) -> Response {
        let body = ErrorBody(error: .init(code: error.code.rawValue, message: error.message))
        let data = (try? encoder.encode(body)) ?? Data("{\"error\":{\"code\":\"internal_error\",\"message\":\"\"}}".utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        if error.code == .unauthenticated || error.code == .invalidCredentials {
            headers[.wwwAuthenticate] = "Bearer realm=\"shopfloor\""
        }
        return Response(status: .init(code: error.code.httpStatus), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Decodes the request body as `T`, with a message that names the field and what was expected.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int = 1 << 20) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(.badRequest, "request body is larger than \(limit) bytes")
        }
        return try decode(type, from: Data(buffer: buffer))
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else { throw APIError(.invalidJSON, "request body is empty; a JSON object is required") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as APIError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw APIError(.invalidJSON, "missing field \"\(path(context.codingPath + [key]))\"")
        } catch let DecodingError.typeMismatch(expected, context) {
            throw APIError(.invalidJSON, "field \"\(path(context.codingPath))\" must be \(describe(expected))")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw APIError(.invalidJSON, "field \"\(path(context.codingPath))\" must be \(describe(expected)), not null")
        } catch let DecodingError.dataCorrupted(context) {
            let field = path(context.codingPath)
            throw APIError(.invalidJSON, field.isEmpty ? "request body is not valid JSON"
                                                      : "field \"\(field)\": \(context.debugDescription)")
        } catch {
            throw APIError(.invalidJSON, "request body is not valid JSON")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "of type \(type)"
        }
    }
}

/// The error body.
struct ErrorBody: Codable {
    struct Detail: Codable {
        var code: String
        var message: String
    }
    var error: Detail
}

/// Typed access to query parameters with precise errors.
struct Query {
    let parameters: [String: String]
    let path: String

    init(_ request: Request) {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        self.parameters = parameters
        path = request.uri.path
    }

    func string(_ name: String) -> String? {
        guard let value = parameters[name], !value.isEmpty else { return nil }
        return value
    }

    func required(_ name: String, expected: String) throws(APIError) -> String {
        guard let value = string(name) else {
            throw APIError(.invalidParameter, "query parameter \"\(name)\" is required: \(expected)")
        }
        return value
    }

    func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.parameter(name, text, expected: "an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    func time(_ name: String) throws(APIError) -> Int64? {
        guard let text = string(name) else { return nil }
        guard let ms = Millis.parse(text) else {
            throw APIError.parameter(name, text, expected: "an RFC 3339 time like 2026-11-22T08:00:00Z or Unix milliseconds")
        }
        return ms
    }

    func asset(_ name: String = "asset") throws(APIError) -> ISA95Path? {
        guard let text = string(name) else { return nil }
        do {
            return try ISA95Path.parse(text)
        } catch {
            throw APIError.parameter(name, text, expected: "an ISA-95 path enterprise/site[/area[/line[/cell]]] (\(error.message))")
        }
    }

    func bool(_ name: String) throws(APIError) -> Bool {
        guard let text = string(name) else { return false }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError.parameter(name, text, expected: "true or false")
        }
    }

    /// `limit` (1…1000, default 100) and `offset` (≥ 0).
    func page() throws(APIError) -> (limit: Int, offset: Int) {
        (try integer("limit", default: 100, range: 1...1000), try integer("offset", default: 0, range: 0...Int(Int32.max)))
    }

    /// The page wrapper: `next` repeats this request's parameters with the next offset.
    func paged<Item: Codable & Sendable>(_ items: [Item], limit: Int, offset: Int) -> Page<Item> {
        guard items.count == limit else {
            return Page(items: items, limit: limit, offset: offset, nextOffset: nil, next: nil)
        }
        var next = parameters
        next["offset"] = String(offset + limit)
        next["limit"] = String(limit)
        var components = URLComponents()
        components.path = path
        components.queryItems = next.keys.sorted().map { URLQueryItem(name: $0, value: next[$0]) }
        return Page(items: items, limit: limit, offset: offset, nextOffset: offset + limit, next: components.string)
    }
}

/// Counts failed logins per user name and refuses further attempts for a while: 5 failures within
/// 5 minutes lock that name for the rest of the window. Counting by name (not address) also slows a
/// distributed guesser aiming at one account.
final class LoginThrottle: Sendable {
    private let failures = Mutex<[String: [Int64]]>([:])
    let maxFailures: Int
    let windowMS: Int64

    init(maxFailures: Int = 5, window: Duration = .seconds(300)) {
        self.maxFailures = maxFailures
        windowMS = window.components.seconds * 1000
    }

    /// Seconds until `user` may try again, or nil when allowed.
    func retryAfter(_ user: String, now: Int64 = Millis.now()) -> Int? {
        failures.withLock { failures in
            let recent = (failures[user.lowercased()] ?? []).filter { $0 > now - windowMS }
            failures[user.lowercased()] = recent
            guard recent.count >= maxFailures, let oldest = recent.first else { return nil }
            return Int(max(1, (oldest + windowMS - now) / 1000))
        }
    }

    func fail(_ user: String, now: Int64 = Millis.now()) {
        failures.withLock { $0[user.lowercased(), default: []].append(now) }
    }

    func succeed(_ user: String) {
        _ = failures.withLock { $0.removeValue(forKey: user.lowercased()) }
    }
}

/// Turns Hummingbird's own errors (no route: 404, wrong method: 405, too large: 413) into the api's JSON
/// error body, so every error a client sees has the same shape.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return HTTPJSON.error(error)
        } catch let error as HTTPError {
            let code: APIError.Code = switch error.status.code {
            case 404: .notFound
            case 401: .unauthenticated
            case 403: .forbidden
            case 400..<500: .badRequest
            default: .internalError
            }
            var response = HTTPJSON.error(APIError(code, error.body ?? "\(request.method) \(request.uri.path): \(error.status.reasonPhrase)"))
            response.status = error.status
            return response
        }
    }
}
