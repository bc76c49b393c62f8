import Foundation
import ServiceRuntime

/// The api's own flags, as given on the command line (nil = not given).
public struct APIFlags: Sendable {
    public var store: String?
    public var reasonTree: String?
    public var requestTimeoutMS: String?
    public var sessionHours: String?
    public var publicDirectory: String?
    public var mqttClientID: String?
    public var sessionExpiry: String?
    public var dedupDays: String?

    public init(store: String? = nil, reasonTree: String? = nil, requestTimeoutMS: String? = nil,
                sessionHours: String? = nil, publicDirectory: String? = nil, mqttClientID: String? = nil,
                sessionExpiry: String? = nil, dedupDays: String? = nil) {
        self.store = store
        self.reasonTree = reasonTree
        self.requestTimeoutMS = requestTimeoutMS
        self.sessionHours = sessionHours
        self.publicDirectory = publicDirectory
        self.mqttClientID = mqttClientID
        self.sessionExpiry = sessionExpiry
        self.dedupDays = dedupDays
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
/// - `--mqtt-client-id` / `API_MQTT_CLIENT_ID`, 1…256 bytes without control characters, the UNS feed's client
///   id (its persistent session is keyed by it), `shopfloor-api-<instance>-<hash of store and UNS prefix>`
/// - `--mqtt-session-expiry` / `API_MQTT_SESSION_EXPIRY`, 1…4294967295 s: how long the broker keeps the feed's session
///   (and queues events) while the api is away, `86400`
/// - `--dedup-days` / `API_DEDUP_DAYS`, 1…3650: how long processed event ids are kept for deduplication, `7`
public struct APIConfig: Sendable, CustomStringConvertible {
    public static let storeKey = ConfigKey(flag: "store", environment: "API_STORE")
    public static let reasonTreeKey = ConfigKey(flag: "reason-tree", environment: "API_REASON_TREE")
    public static let requestTimeoutKey = ConfigKey(flag: "request-timeout-ms", environment: "API_REQUEST_TIMEOUT_MS")
    public static let sessionHoursKey = ConfigKey(flag: "session-hours", environment: "API_SESSION_HOURS")
    public static let publicDirectoryKey = ConfigKey(flag: "public-dir", environment: "API_PUBLIC_DIR")
    public static let mqttClientIDKey = ConfigKey(flag: "mqtt-client-id", environment: "API_MQTT_CLIENT_ID")
    public static let sessionExpiryKey = ConfigKey(flag: "mqtt-session-expiry", environment: "API_MQTT_SESSION_EXPIRY")
    public static let dedupDaysKey = ConfigKey(flag: "dedup-days", environment: "API_DEDUP_DAYS")

    public var store: StoreLocation
    public var reasons: ReasonTree
    public var requestTimeout: Duration
    public var sessionLifetime: Duration
    public var publicDirectory: String?
    /// The UNS feed's MQTT client id when configured; nil derives one (`mqttClientID(runtime:)`).
    public var mqttClientID: String?
    /// Session Expiry Interval of the feed's persistent session, in seconds.
    public var sessionExpiry: UInt32
    /// How long deduplication keys (processed event ids) are kept.
    public var dedupWindow: Duration

    public init(store: StoreLocation, reasons: ReasonTree = .standard, requestTimeout: Duration = .seconds(5),
                sessionLifetime: Duration = .seconds(12 * 3600), publicDirectory: String? = nil,
                mqttClientID: String? = nil, sessionExpiry: UInt32 = 86_400, dedupWindow: Duration = .seconds(7 * 86_400)) {
        self.store = store
        self.reasons = reasons
        self.requestTimeout = requestTimeout
        self.sessionLifetime = sessionLifetime
        self.publicDirectory = publicDirectory
        self.mqttClientID = mqttClientID
        self.sessionExpiry = sessionExpiry
        self.dedupWindow = dedupWindow
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
        mqttClientID = Self.mqttClientIDKey.raw(flag: flags.mqttClientID, in: environment)
        if let id = mqttClientID {
            guard !id.isEmpty, id.utf8.count <= 256,
                  !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw ConfigError(key: Self.mqttClientIDKey.description, value: id,
                                  expected: "an MQTT client id of 1…256 bytes without control characters")
            }
        }
        sessionExpiry = UInt32(try Self.sessionExpiryKey.integer(flag: flags.sessionExpiry, in: environment,
                                                                 default: 86_400, range: 1...Int(UInt32.max)))
        let days = try Self.dedupDaysKey.integer(flag: flags.dedupDays, in: environment, default: 7, range: 1...3650)
        dedupWindow = .seconds(days * 86_400)
    }

    /// The UNS feed's client id: the configured one, or `shopfloor-api-<instance>-<12 hex digits>` hashed from
    /// the store and the UNS prefix, so the same api finds its session again after a restart, and apis with
    /// different stores or prefixes on one broker never take over each other's session.
    public func mqttClientID(runtime: RuntimeConfig) -> String {
        if let mqttClientID { return mqttClientID }
        return "shopfloor-api-\(runtime.instance)-\(Self.fingerprint("\(store)|\(runtime.unsPrefix)"))"
    }

    /// 48 bits of FNV-1a 64 in hex: a stable short name for a configuration, not a secret (the store's
    /// description never holds a password).
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash >> 16, radix: 16)
        return String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    public var description: String {
        "store=\(store) reasons=\(reasons.codes.count) codes request-timeout=\(requestTimeout) "
            + "session=\(sessionLifetime) public=\(publicDirectory ?? "none") mqtt-client-id=\(mqttClientID ?? "derived") "
            + "session-expiry=\(sessionExpiry)s dedup=\(dedupWindow)"
    }
}
