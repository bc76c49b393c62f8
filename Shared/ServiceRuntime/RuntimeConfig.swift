import EventSchema
import Foundation
import Logging
import MQTT

/// How log lines are written: human-readable text or one JSON object per line for log shippers.
public enum LogFormat: String, CaseIterable, Sendable {
    case text
    case json
}

/// The settings every Shopfloor executable shares, resolved from flags, then environment, then defaults.
///
/// Keys (flag / environment variable, type, default):
/// - `--mqtt-url` / `MQTT_URL`, URL, `mqtt://127.0.0.1:1883`
/// - `--http-port` / `HTTP_PORT`, integer 0…65535, the service's own default port
/// - `--http-host` / `HTTP_HOST`, address, `0.0.0.0`
/// - `--log-level` / `LOG_LEVEL`, trace…critical, `info`
/// - `--log-format` / `LOG_FORMAT`, text or json, `text`
/// - `--instance` / `INSTANCE`, name, the host name
/// - `--uns-prefix` / `UNS_PREFIX`, topic levels, `uns/v1`
public struct RuntimeConfig: Sendable, CustomStringConvertible {
    public static let mqttURLKey = ConfigKey(flag: "mqtt-url", environment: "MQTT_URL")
    public static let httpPortKey = ConfigKey(flag: "http-port", environment: "HTTP_PORT")
    public static let httpHostKey = ConfigKey(flag: "http-host", environment: "HTTP_HOST")
    public static let logLevelKey = ConfigKey(flag: "log-level", environment: "LOG_LEVEL")
    public static let logFormatKey = ConfigKey(flag: "log-format", environment: "LOG_FORMAT")
    public static let instanceKey = ConfigKey(flag: "instance", environment: "INSTANCE")
    public static let unsPrefixKey = ConfigKey(flag: "uns-prefix", environment: "UNS_PREFIX")

    /// The service name used in logs, metrics and status topics (`gateway`, `stream`, …).
    public var service: String
    public var broker: MQTTURL
    public var httpHost: String
    public var httpPort: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var instance: String
    /// Root of every UNS topic this service publishes (`uns/v1`).
    public var unsPrefix: String
    /// This instance's retained status topic, `<prefix>/_svc/<service>/status/<instance>`.
    public var statusTopic: UNSTopic

    /// Resolves and validates the shared settings; the first bad value throws a `ConfigError` naming its key.
    public init(service: String, options: RuntimeOptions, environment: [String: String],
                defaultHTTPPort: Int) throws(ConfigError) {
        self.service = service
        let url = Self.mqttURLKey.raw(flag: options.mqttURL, in: environment) ?? "mqtt://127.0.0.1:1883"
        do {
            broker = try MQTTURL(parsing: url)
        } catch {
            throw ConfigError(key: Self.mqttURLKey.description, value: MQTTURL.redacted(url),
                              expected: "mqtt://[user:pass@]host:port or mqtts://… (\(error.message))")
        }
        httpPort = try Self.httpPortKey.integer(flag: options.httpPort, in: environment,
                                                default: defaultHTTPPort, range: 0...65535)
        httpHost = Self.httpHostKey.raw(flag: options.httpHost, in: environment) ?? "0.0.0.0"
        logLevel = try Self.logLevelKey.choice(flag: options.logLevel, in: environment, default: .info)
        logFormat = try Self.logFormatKey.choice(flag: options.logFormat, in: environment, default: .text)
        let host = ProcessInfo.processInfo.hostName
        instance = Self.instanceKey.raw(flag: options.instance, in: environment) ?? (host.isEmpty ? service : host)
        unsPrefix = Self.unsPrefixKey.raw(flag: options.unsPrefix, in: environment) ?? UNSTopic.defaultPrefix
        do {
            statusTopic = try UNSTopic.status(of: service, instance: instance, prefix: unsPrefix)
        } catch {
            // The instance name and the prefix become topic levels; say which one is wrong.
            let prefixValid = (try? UNSTopic.status(of: service, instance: "x", prefix: unsPrefix)) != nil
            throw prefixValid
                ? ConfigError(key: Self.instanceKey.description, value: instance,
                              expected: "one MQTT topic level without / + # (\(error))")
                : ConfigError(key: Self.unsPrefixKey.description, value: unsPrefix,
                              expected: "topic levels without + # or empty levels (\(error))")
        }
    }

    /// Safe to log: the broker password is redacted.
    public var description: String {
        "service=\(service) instance=\(instance) mqtt=\(broker) uns=\(unsPrefix) http=\(httpHost):\(httpPort) "
            + "log=\(logLevel)/\(logFormat.rawValue)"
    }
}
