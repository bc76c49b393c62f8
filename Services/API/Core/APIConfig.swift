import Foundation
import ServiceRuntime

/// The api's own flags, as given on the command line (nil = not given).
public struct APIFlags: Sendable {
    public var store: String?
    public var reasonTree: String?
    public var requestTimeoutMS: String?
    public var sessionHours: String?
    public var publicDirectory: String?

    public init(store: String? = nil, reasonTree: String? = nil, requestTimeoutMS: String? = nil,
                sessionHours: String? = nil, publicDirectory: String? = nil) {
        self.store = store
        self.reasonTree = reasonTree
        self.requestTimeoutMS = requestTimeoutMS
        self.sessionHours = sessionHours
        self.publicDirectory = publicDirectory
    }
}

/// The api's settings beyond the shared `RuntimeConfig`, from flags, then environment, then defaults.
///
/// Keys (flag / environment variable, type, default):
/// - `--store` / `API_STORE`, `sqlite:PATH` or `postgres://user[:password]@host[:port]/db`, `sqlite:api.db`
/// - `--reason-tree` / `API_REASON_TREE`, path of a JSON reason tree, the built-in tree
/// - `--request-timeout-ms` / `API_REQUEST_TIMEOUT_MS`, 100…120000, `5000`: how long history and ask wait
/// - `--session-hours` / `API_SESSION_HOURS`, 1…720, `12`: lifetime of a login session
/// - `--public-dir` / `API_PUBLIC_DIR`, directory served at `/`, the dashboard bundled with the executable
public struct APIConfig: Sendable, CustomStringConvertible {
    public static let storeKey = ConfigKey(flag: "store", environment: "API_STORE")
    public static let reasonTreeKey = ConfigKey(flag: "reason-tree", environment: "API_REASON_TREE")
    public static let requestTimeoutKey = ConfigKey(flag: "request-timeout-ms", environment: "API_REQUEST_TIMEOUT_MS")
    public static let sessionHoursKey = ConfigKey(flag: "session-hours", environment: "API_SESSION_HOURS")
    public static let publicDirectoryKey = ConfigKey(flag: "public-dir", environment: "API_PUBLIC_DIR")

    public var store: StoreLocation
    public var reasons: ReasonTree
    public var requestTimeout: Duration
    public var sessionLifetime: Duration
    public var publicDirectory: String?

    public init(store: StoreLocation, reasons: ReasonTree = .standard, requestTimeout: Duration = .seconds(5),
                sessionLifetime: Duration = .seconds(12 * 3600), publicDirectory: String? = nil) {
        self.store = store
        self.reasons = reasons
        self.requestTimeout = requestTimeout
        self.sessionLifetime = sessionLifetime
        self.publicDirectory = publicDirectory
    }

    /// Resolves and validates; the first bad value throws a `ConfigError` naming its key.
    public init(flags: APIFlags, environment: [String: String], defaultPublicDirectory: String?) throws(ConfigError) {
        let storeText = Self.storeKey.raw(flag: flags.store, in: environment) ?? "sqlite:api.db"
        do {
            store = try StoreLocation(parsing: storeText)
        } catch {
            throw ConfigError(key: Self.storeKey.description, value: storeText.contains("@") ? "postgres://…" : storeText,
                              expected: "sqlite:PATH or postgres://user[:password]@host[:port]/database")
        }
        if let path = Self.reasonTreeKey.raw(flag: flags.reasonTree, in: environment) {
            do {
                reasons = try ReasonTree.load(path: path)
            } catch {
                throw ConfigError(key: Self.reasonTreeKey.description, value: path, expected: "a JSON reason tree (\(error.message))")
            }
        } else {
            reasons = .standard
        }
        let timeout = try Self.requestTimeoutKey.integer(flag: flags.requestTimeoutMS, in: environment, default: 5000,
                                                         range: 100...120_000)
        requestTimeout = .milliseconds(timeout)
        let hours = try Self.sessionHoursKey.integer(flag: flags.sessionHours, in: environment, default: 12, range: 1...720)
        sessionLifetime = .seconds(hours * 3600)
        publicDirectory = Self.publicDirectoryKey.raw(flag: flags.publicDirectory, in: environment) ?? defaultPublicDirectory
    }

    public var description: String {
        "store=\(store) reasons=\(reasons.codes.count) codes request-timeout=\(requestTimeout) "
            + "session=\(sessionLifetime) public=\(publicDirectory ?? "none")"
    }
}
