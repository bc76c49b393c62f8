import Foundation

/// Where and how to connect to PostgreSQL.
///
/// Passed to libpq as separate keyword/value pairs, never as one conninfo string, so no value needs quoting
/// and no connection string with a password ever exists in memory. `description` and `dump` redact the password.
public struct PostgresConfiguration: Sendable, Hashable {
    /// libpq `sslmode` values.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// Shown in `pg_stat_activity.application_name`, so operators can tell which service holds a connection.
    public var applicationName: String
    /// Seconds libpq waits for the TCP connection and authentication.
    public var connectTimeout: Int

    public init(host: String = "127.0.0.1", port: Int = 5432, user: String = "postgres", password: String? = nil,
                database: String = "postgres", sslMode: SSLMode = .prefer, applicationName: String = "shopfloor",
                connectTimeout: Int = 10) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=require&application_name=stream`
    /// (scheme `postgresql` too); percent-escapes in user and password are decoded. The error never repeats
    /// the URL, because it may hold the password.
    public init(url: String) throws {
        func invalid(_ why: String) -> PostgresError {
            PostgresError(code: .invalidConfiguration, message: why, context: "PostgresConfiguration(url:)")
        }
        guard let components = URLComponents(string: url) else {
            throw invalid("not a URL; expected postgres://user:password@host:port/database")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("scheme must be postgres:// or postgresql://")
        }
        self.init()
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port {
            guard (1...65535).contains(port) else { throw invalid("port \(port) is outside 1…65535") }
            self.port = port
        }
        if let user = components.percentEncodedUser, !user.isEmpty { self.user = user.removingPercentEncoding ?? user }
        if let password = components.percentEncodedPassword { self.password = password.removingPercentEncoding ?? password }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if !path.isEmpty { database = path.removingPercentEncoding ?? path }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw invalid("sslmode \"\(value)\" is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "application_name": applicationName = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds >= 0 else {
                    throw invalid("connect_timeout \"\(value)\" is not a whole number of seconds")
                }
                connectTimeout = seconds
            default:
                throw invalid("unknown URL parameter \"\(item.name)\"; accepted: sslmode, application_name, connect_timeout")
            }
        }
    }

    /// Keyword/value pairs for `PQconnectdbParams`.
    var libpqParameters: [(String, String)] {
        var pairs = [("host", host), ("port", String(port)), ("user", user), ("dbname", database),
                     ("sslmode", sslMode.rawValue), ("application_name", applicationName),
                     ("connect_timeout", String(connectTimeout)), ("client_encoding", "UTF8")]
        if let password { pairs.append(("password", password)) }
        return pairs
    }

    /// host:port/database as user, for error messages: everything an operator needs, nothing secret.
    var target: String { "\(user)@\(host):\(port)/\(database)" }
}

extension PostgresConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let secret = password == nil ? "" : ":***"
        return "postgres://\(user)\(secret)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)&application_name=\(applicationName)"
    }

    public var debugDescription: String { description }

    /// Keeps the password out of `dump` and debugger output too.
    public var customMirror: Mirror {
        Mirror(self, children: ["host": host, "port": port, "user": user, "password": password == nil ? "nil" : "***",
                                "database": database, "sslMode": sslMode, "applicationName": applicationName,
                                "connectTimeout": connectTimeout])
    }
}
