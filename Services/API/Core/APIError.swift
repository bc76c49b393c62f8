/// The one error type of the api: a stable code clients switch on, the HTTP status it answers with, and a
/// message that says what was wrong, the value and what is accepted. Messages never hold passwords or tokens.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable codes; the raw values are part of the HTTP API (`{"error":{"code":…}}`).
    public enum Code: String, Sendable, Equatable, CaseIterable {
        case badRequest = "bad_request"
        case invalidJSON = "invalid_json"
        case invalidParameter = "invalid_parameter"
        case unauthenticated = "unauthenticated"
        case invalidCredentials = "invalid_credentials"
        case forbidden = "forbidden"
        case notFound = "not_found"
        case conflict = "conflict"
        case illegalTransition = "illegal_transition"
        case rateLimited = "rate_limited"
        case upstreamTimeout = "upstream_timeout"
        case upstreamFailure = "upstream_failure"
        case unavailable = "unavailable"
        case invalidConfiguration = "invalid_configuration"
        case storeFailure = "store_failure"
        case internalError = "internal_error"

        /// The HTTP status this code answers with.
        public var httpStatus: Int {
            switch self {
            case .badRequest, .invalidJSON, .invalidParameter: 400
            case .unauthenticated, .invalidCredentials: 401
            case .forbidden: 403
            case .notFound: 404
            case .conflict, .illegalTransition: 409
            case .rateLimited: 429
            case .upstreamFailure: 502
            case .unavailable: 503
            case .upstreamTimeout: 504
            case .invalidConfiguration, .storeFailure, .internalError: 500
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// A 404 naming what was looked for.
    static func notFound(_ what: String, _ id: String) -> APIError {
        APIError(.notFound, "\(what) \"\(id)\" does not exist")
    }

    /// A 400 for a query or body parameter.
    static func parameter(_ name: String, _ value: String, expected: String) -> APIError {
        APIError(.invalidParameter, "\(name) \"\(value)\" is not valid: expected \(expected)")
    }
}
