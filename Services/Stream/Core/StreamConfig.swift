import Foundation
import Postgres
import ServiceRuntime
import Sparkplug

/// Whether this instance is the one Sparkplug host (STATE, seq tracking, rebirth requests) or a worker that
/// only shares the DATA load.
public enum StreamRole: String, CaseIterable, Sendable {
    case primary
    case worker
}

/// Where samples are stored.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// An embedded SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL database (TimescaleDB hypertable when the extension is available).
    case postgres(PostgresConfiguration)

    /// Safe to log: the PostgreSQL password is never included.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let configuration): "\(configuration)"
        }
    }
}

/// The raw flag values of `stream`'s own options; nil when a flag was not given.
public struct StreamFlags: Sendable {
    public var store: String?
    public var hostID: String?
    public var role: String?
    public var journal: String?
    public var batchSize: String?
    public var batchIntervalMS: String?
    public var reorderTimeoutMS: String?
    public var rebirthIntervalMS: String?
    public var sessionExpiry: String?
    public var groups: String?
    public var retention: String?
    public var rollupRetention: String?
    public var alarmRules: String?

    public init(store: String? = nil, hostID: String? = nil, role: String? = nil, journal: String? = nil,
                batchSize: String? = nil, batchIntervalMS: String? = nil, reorderTimeoutMS: String? = nil,
                rebirthIntervalMS: String? = nil, sessionExpiry: String? = nil, groups: String? = nil,
                retention: String? = nil, rollupRetention: String? = nil, alarmRules: String? = nil) {
        self.alarmRules = alarmRules
        self.groups = groups
        self.retention = retention
        self.rollupRetention = rollupRetention
        self.store = store
        self.hostID = hostID
        self.role = role
        self.journal = journal
        self.batchSize = batchSize
        self.batchIntervalMS = batchIntervalMS
        self.reorderTimeoutMS = reorderTimeoutMS
        self.rebirthIntervalMS = rebirthIntervalMS
        self.sessionExpiry = sessionExpiry
    }
}

/// `stream`'s own settings, resolved from flags, then environment, then defaults, and validated.
///
/// Keys (flag / environment variable, type, default):
/// - `--store` / `STREAM_STORE`, `sqlite:PATH` or `postgres://user[:pass]@host:port/db`, `sqlite:stream.db`
/// - `--host-id` / `STREAM_HOST_ID`, Sparkplug host id (no `/ + #`), `shopfloor`
/// - `--role` / `STREAM_ROLE`, `primary` or `worker`, `primary`
/// - `--journal` / `STREAM_JOURNAL`, file path, `stream.journal`
/// - `--batch-size` / `STREAM_BATCH_SIZE`, journal records per store transaction, 1…100000, `2000`
/// - `--batch-interval-ms` / `STREAM_BATCH_INTERVAL_MS`, idle poll of the journal, 1…60000, `20`
/// - `--reorder-timeout-ms` / `STREAM_REORDER_TIMEOUT_MS`, Sparkplug reorder timeout, 0…600000, `2000`
/// - `--rebirth-interval-ms` / `STREAM_REBIRTH_INTERVAL_MS`, minimum gap between rebirth requests to one
///   node, 0…3600000, `10000`
/// - `--session-expiry` / `STREAM_SESSION_EXPIRY`, seconds the broker keeps the ingest session, 1…4294967295,
///   `3600`
/// - `--groups` / `STREAM_GROUPS`, comma-separated Sparkplug group ids to host, all groups (`spBv1.0/#`)
/// - `--alarm-rules` / `STREAM_ALARM_RULES`, path of a JSON array of `AlarmRule`, none (BIRTH properties only)
/// - `--retention` / `STREAM_RETENTION`, age of raw samples to keep (`30d`, `12h`, `90m`; `0` keeps all),
///   enforced at start and hourly, `0`
/// - `--rollup-retention` / `STREAM_ROLLUP_RETENTION`, age of 1-minute and 1-hour rollups to keep, same
///   format, `0`; when both are set it must not be shorter than `--retention`
public struct StreamConfig: Sendable, CustomStringConvertible {
    public static let storeKey = ConfigKey(flag: "store", environment: "STREAM_STORE")
    public static let hostIDKey = ConfigKey(flag: "host-id", environment: "STREAM_HOST_ID")
    public static let roleKey = ConfigKey(flag: "role", environment: "STREAM_ROLE")
    public static let journalKey = ConfigKey(flag: "journal", environment: "STREAM_JOURNAL")
    public static let batchSizeKey = ConfigKey(flag: "batch-size", environment: "STREAM_BATCH_SIZE")
    public static let batchIntervalKey = ConfigKey(flag: "batch-interval-ms", environment: "STREAM_BATCH_INTERVAL_MS")
    public static let reorderTimeoutKey = ConfigKey(flag: "reorder-timeout-ms", environment: "STREAM_REORDER_TIMEOUT_MS")
    public static let rebirthIntervalKey = ConfigKey(flag: "rebirth-interval-ms", environment: "STREAM_REBIRTH_INTERVAL_MS")
    public static let sessionExpiryKey = ConfigKey(flag: "session-expiry", environment: "STREAM_SESSION_EXPIRY")
    public static let groupsKey = ConfigKey(flag: "groups", environment: "STREAM_GROUPS")
    public static let alarmRulesKey = ConfigKey(flag: "alarm-rules", environment: "STREAM_ALARM_RULES")
    public static let retentionKey = ConfigKey(flag: "retention", environment: "STREAM_RETENTION")
    public static let rollupRetentionKey = ConfigKey(flag: "rollup-retention", environment: "STREAM_ROLLUP_RETENTION")

    public var store: StoreLocation
    public var hostID: String
    public var role: StreamRole
    public var journalPath: String
    public var batchSize: Int
    public var batchInterval: Duration
    public var reorderTimeoutMS: UInt64
    public var rebirthIntervalMS: UInt64
    public var sessionExpiry: UInt32
    /// Sparkplug groups this host consumes; empty for every group.
    public var groups: [String]
    /// How long raw samples are kept, ms; 0 keeps them forever.
    public var retentionMS: UInt64
    /// How long rollups are kept, ms; 0 keeps them forever.
    public var rollupRetentionMS: UInt64
    /// Configured threshold rules (they win over BIRTH properties).
    public var alarmRules: [AlarmRule]

    /// Resolves and validates; the first bad value throws a `ConfigError` naming its key.
    public init(flags: StreamFlags, environment: [String: String]) throws(ConfigError) {
        let storeText = Self.storeKey.raw(flag: flags.store, in: environment) ?? "sqlite:stream.db"
        store = try Self.parseStore(storeText)
        hostID = Self.hostIDKey.raw(flag: flags.hostID, in: environment) ?? "shopfloor"
        do {
            _ = try SparkplugTopic(stateOf: hostID)
        } catch {
            throw ConfigError(key: Self.hostIDKey.description, value: hostID,
                              expected: "a Sparkplug host id: non-empty, without / + # (\(error.message))")
        }
        role = try Self.roleKey.choice(flag: flags.role, in: environment, default: .primary)
        journalPath = Self.journalKey.raw(flag: flags.journal, in: environment) ?? "stream.journal"
        batchSize = try Self.batchSizeKey.integer(flag: flags.batchSize, in: environment, default: 2_000,
                                                  range: 1...100_000)
        batchInterval = .milliseconds(try Self.batchIntervalKey.integer(flag: flags.batchIntervalMS, in: environment,
                                                                        default: 20, range: 1...60_000))
        reorderTimeoutMS = UInt64(try Self.reorderTimeoutKey.integer(flag: flags.reorderTimeoutMS, in: environment,
                                                                     default: 2_000, range: 0...600_000))
        rebirthIntervalMS = UInt64(try Self.rebirthIntervalKey.integer(flag: flags.rebirthIntervalMS, in: environment,
                                                                       default: 10_000, range: 0...3_600_000))
        sessionExpiry = UInt32(try Self.sessionExpiryKey.integer(flag: flags.sessionExpiry, in: environment,
                                                                 default: 3_600, range: 1...Int(UInt32.max)))
        if let path = Self.alarmRulesKey.raw(flag: flags.alarmRules, in: environment) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError(key: Self.alarmRulesKey.description, value: path, expected: "a readable JSON file")
            }
            do {
                alarmRules = try AlarmRules.parse(data)
            } catch {
                throw ConfigError(key: Self.alarmRulesKey.description, value: path, expected: "\(error)")
            }
        } else {
            alarmRules = []
        }
        retentionMS = try Self.age(Self.retentionKey, flag: flags.retention, in: environment)
        rollupRetentionMS = try Self.age(Self.rollupRetentionKey, flag: flags.rollupRetention, in: environment)
        if retentionMS > 0, rollupRetentionMS > 0, rollupRetentionMS < retentionMS {
            throw ConfigError(key: Self.rollupRetentionKey.description,
                              value: Self.rollupRetentionKey.raw(flag: flags.rollupRetention, in: environment) ?? "",
                              expected: "an age at least as long as --retention (rollups outlive raw samples), or 0")
        }
        let groupsText = Self.groupsKey.raw(flag: flags.groups, in: environment) ?? ""
        groups = groupsText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for group in groups {
            do {
                _ = try SparkplugTopic(group: group, verb: .nbirth, edgeNode: "x")
            } catch {
                throw ConfigError(key: Self.groupsKey.description, value: groupsText,
                                  expected: "comma-separated Sparkplug group ids without / + # (\(error.message))")
            }
        }
    }

    /// An age like `30d`, `12h`, `90m`, `45s` (or `0`: keep forever) in ms, at most 100 years.
    static func age(_ key: ConfigKey, flag: String?, in environment: [String: String]) throws(ConfigError) -> UInt64 {
        guard let text = key.raw(flag: flag, in: environment) else { return 0 }
        if text == "0" { return 0 }
        let units: [Character: UInt64] = ["d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000]
        guard let unit = text.last.flatMap({ units[$0] }), let count = UInt64(text.dropLast()), count > 0,
              count <= 36_500 * 86_400_000 / unit else {
            throw ConfigError(key: key.description, value: text,
                              expected: "an age like 30d, 12h, 90m or 45s (at most 36500d), or 0 to keep everything")
        }
        return count * unit
    }

    /// `sqlite:PATH` or `postgres://…` / `postgresql://…`.
    static func parseStore(_ text: String) throws(ConfigError) -> StoreLocation {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            // Accept sqlite:///abs/path and sqlite://rel too.
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                throw ConfigError(key: storeKey.description, value: text, expected: "sqlite:PATH with a non-empty PATH")
            }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            do {
                return .postgres(try PostgresConfiguration(url: text))
            } catch {
                throw ConfigError(key: storeKey.description, value: redacted(text),
                                  expected: "postgres://user[:password]@host[:port]/database (\(error))")
            }
        }
        throw ConfigError(key: storeKey.description, value: redacted(text),
                          expected: "sqlite:PATH or postgres://user[:password]@host[:port]/database")
    }

    /// The URL with any password replaced, for error messages.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else {
            return text
        }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// The state machine's settings for this instance.
    public var hostConfiguration: HostStateMachine.Configuration {
        // The loader sees only its share of the DATA: seq is tracked by the primary's `SequenceObserver`.
        .init(reorderTimeout: reorderTimeoutMS, rebirthInterval: rebirthIntervalMS, isPrimary: role == .primary,
              tracksSequence: false)
    }

    /// Safe to log: the store password is redacted.
    public var description: String {
        "store=\(store) host-id=\(hostID) role=\(role.rawValue) journal=\(journalPath) batch=\(batchSize)/"
            + "\(batchInterval) reorder=\(reorderTimeoutMS)ms rebirth-interval=\(rebirthIntervalMS)ms"
            + " retention=\(retentionMS)ms rollup-retention=\(rollupRetentionMS)ms"
    }
}
