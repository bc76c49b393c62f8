import EventSchema
import Foundation
import Hummingbird
import Logging
import MQTT

/// A route handler: the request, its context and the authenticated caller (nil on public routes).
typealias RouteHandler = @Sendable (Request, BasicRequestContext, Principal?) async throws -> Response

extension APIApplication {
    /// Registers `path` (OpenAPI form, `{id}`) for `method`; `role` nil means public. Every error becomes the
    /// JSON error body; store and broker failures are 500/503 with their message (never a secret).
    func add(_ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: String, role: Role?,
             _ handler: @escaping RouteHandler) {
        routes.record(RouteSpec(method: method.rawValue, path: path))
        let hummingbirdPath = path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
        router.on(RouterPath(hummingbirdPath), method: method) { [self] request, context -> Response in
            do {
                let principal = try await role.asyncMap { try await authenticate(request, minimum: $0) }
                return try await handler(request, context, principal)
            } catch let error as APIError {
                var headers: HTTPFields = [:]
                if error.code == .rateLimited, let seconds = error.message.split(separator: " ").compactMap({ Int($0) }).last {
                    headers[.retryAfter] = String(seconds)
                }
                return HTTPJSON.error(error, headers: headers)
            } catch let error as MQTTError {
                return HTTPJSON.error(APIError(.unavailable, "the MQTT broker is not reachable: \(error.message)"))
            } catch {
                logger.error("request failed", metadata: ["route": "\(method) \(path)", "error": "\(error)"])
                return HTTPJSON.error(APIError(.storeFailure, "the store failed: \(error)"))
            }
        }
    }

    /// The caller of `request`, checked against `minimum`: 401 without valid credentials, 403 below the role.
    func authenticate(_ request: Request, minimum: Role) async throws -> Principal {
        guard let secret = Self.bearer(request) else {
            throw APIError(.unauthenticated, "this endpoint needs a login: send Authorization: Bearer <token> "
                + "(POST /v1/auth/login or an API token)")
        }
        let digest = try BearerSecret.digest(of: secret)
        var principal = principals.get(digest)
        if principal == nil {
            principal = try await store.principal(digest: digest)
            if let principal { principals.put(digest, principal) }
        }
        guard let principal else {
            throw APIError(.unauthenticated, "the bearer token is unknown, expired or revoked; log in again")
        }
        guard principal.role >= minimum else {
            throw APIError(.forbidden, "user \"\(principal.user)\" has role \(principal.role.rawValue); "
                + "this needs \(minimum.rawValue) or above")
        }
        return principal
    }

    /// The bearer secret: `Authorization: Bearer …` or the `shopfloor_session` cookie the login sets.
    static func bearer(_ request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return String(parts[1]).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }
        return request.cookies["shopfloor_session"]?.value
    }

    /// Writes an audit entry for a change `principal` made.
    func audit(_ principal: Principal?, _ action: String, _ target: String, _ detail: String = "") async throws {
        try await store.audit(user: principal?.user ?? "anonymous", action: action, target: target,
                              detail: detail.isEmpty ? "via \(principal?.via ?? "-")" : "\(detail); via \(principal?.via ?? "-")")
    }

    /// Every api route. The OpenAPI document (`OpenAPIDocument`) lists the same set; a test compares them.
    func registerRoutes(on router: Router<BasicRequestContext>) {
        add(router, .get, "/openapi.json", role: nil) { _, _, _ in
            HTTPJSON.raw(OpenAPIDocument.json)
        }
        registerAuthRoutes(on: router)
        registerPlantRoutes(on: router)
        registerMESRoutes(on: router)
        registerUpstreamRoutes(on: router)
    }

    // MARK: Auth, users, tokens, audit

    func registerAuthRoutes(on router: Router<BasicRequestContext>) {
        add(router, .post, "/v1/auth/login", role: nil) { [self] request, _, _ in
            struct Body: Decodable { var user: String; var password: String }
            let body = try await HTTPJSON.decode(Body.self, from: request)
            if let seconds = throttle.retryAfter(body.user) {
                throw APIError(.rateLimited, "too many failed logins for \"\(body.user)\"; try again in \(seconds) s")
            }
            guard let role = try await store.verifyPassword(user: body.user, password: body.password) else {
                throttle.fail(body.user)
                throw APIError(.invalidCredentials, "unknown user or wrong password")
            }
            throttle.succeed(body.user)
            let session = try await store.createSession(user: body.user, lifetime: config.sessionLifetime)
            try await store.audit(user: body.user, action: "login", target: "session")
            var response = try HTTPJSON.response(LoginResponse(token: session.secret, user: body.user, role: role,
                                                               expiresAt: Millis.text(session.expiresAt)))
            response.headers[.setCookie] = "shopfloor_session=\(session.secret); Path=/; HttpOnly; SameSite=Strict; "
                + "Max-Age=\(config.sessionLifetime.components.seconds)"
            return response
        }
        add(router, .post, "/v1/auth/logout", role: .viewer) { [self] request, _, principal in
            if let secret = Self.bearer(request) { try await store.deleteSession(digest: try BearerSecret.digest(of: secret)) }
            principals.clear()
            try await audit(principal, "logout", "session")
            var response = try HTTPJSON.response(["status": "logged out"])
            response.headers[.setCookie] = "shopfloor_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
        add(router, .get, "/v1/auth/me", role: .viewer) { _, _, principal in
            try HTTPJSON.response(Me(user: principal?.user ?? "", role: principal?.role ?? .viewer, via: principal?.via ?? ""))
        }
        add(router, .get, "/v1/users", role: .admin) { [self] _, _, _ in
            try HTTPJSON.response(["items": try await store.users()])
        }
        add(router, .post, "/v1/users", role: .admin) { [self] request, _, principal in
            struct Body: Decodable { var name: String; var password: String; var role: Role }
            let body = try await HTTPJSON.decode(Body.self, from: request)
            let user = try await store.createUser(name: body.name, role: body.role, password: body.password)
            try await audit(principal, "user.create", body.name, "role \(body.role.rawValue)")
            return try HTTPJSON.response(user, status: .created)
        }
        add(router, .delete, "/v1/users/{name}", role: .admin) { [self] _, context, principal in
            let name = context.parameters.get("name") ?? ""
            guard name != principal?.user else {
                throw APIError(.conflict, "you cannot delete yourself (\"\(name)\"); another admin can")
            }
            try await store.deleteUser(name)
            principals.clear()
            try await audit(principal, "user.delete", name)
            return Response(status: .noContent)
        }
        add(router, .get, "/v1/tokens", role: .viewer) { [self] _, _, principal in
            let user = principal?.role == .admin ? nil : principal?.user
            return try HTTPJSON.response(["items": try await store.tokens(user: user)])
        }
        add(router, .post, "/v1/tokens", role: .viewer) { [self] request, _, principal in
            struct Body: Decodable { var name: String }
            let body = try await HTTPJSON.decode(Body.self, from: request)
            let (token, secret) = try await store.createToken(user: principal?.user ?? "", name: body.name)
            try await audit(principal, "token.create", token.id, "name \(body.name)")
            return try HTTPJSON.response(CreatedToken(id: token.id, name: token.name, user: token.user,
                                                      createdAt: token.createdAt, token: secret), status: .created)
        }
        add(router, .delete, "/v1/tokens/{id}", role: .viewer) { [self] _, context, principal in
            let id = context.parameters.get("id") ?? ""
            try await store.deleteToken(id: id, user: principal?.role == .admin ? nil : principal?.user)
            principals.clear()
            try await audit(principal, "token.delete", id)
            return Response(status: .noContent)
        }
        add(router, .get, "/v1/audit", role: .admin) { [self] request, _, _ in
            let query = Query(request)
            let (limit, offset) = try query.page()
            return try HTTPJSON.response(query.paged(try await store.auditLog(limit: limit, offset: offset),
                                                     limit: limit, offset: offset))
        }
    }
}

/// `POST /v1/auth/login` response.
struct LoginResponse: Codable {
    var token: String
    var user: String
    var role: Role
    var expiresAt: String
}

/// `GET /v1/auth/me` response.
struct Me: Codable {
    var user: String
    var role: Role
    var via: String
}

/// `POST /v1/tokens` response: the only time the secret is shown.
struct CreatedToken: Codable {
    var id: String
    var name: String
    var user: String
    var createdAt: String
    var token: String
}

extension Optional {
    /// `map` with an async throwing transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
