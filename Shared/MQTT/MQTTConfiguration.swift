/// Everything `MQTTClient` needs to connect. Build it from a URL (`init(url:clientID:)`, as the services'
/// `--mqtt-url` flag does) and adjust the fields. `description` redacts the password.
public struct MQTTConfiguration: Sendable, CustomStringConvertible {
    /// Broker host name or IP address.
    public var host: String
    /// Broker TCP port.
    public var port: Int
    /// MQTT client identifier. A durable consumer needs a fixed one so the broker can resume its session.
    public var clientID: String
    /// User name for CONNECT, if the broker requires one.
    public var username: String?
    /// Password for CONNECT. Never logged or put into errors.
    public var password: String?
    /// TLS settings; nil for plain TCP.
    public var tls: TLS?
    /// CONNECT Clean Start flag: true discards any previous session on the broker.
    public var cleanStart: Bool
    /// CONNECT Session Expiry Interval in seconds: how long the broker keeps the session (subscriptions,
    /// queued QoS 1 messages) after a disconnect. 0 ends it with the connection.
    public var sessionExpiry: UInt32
    /// Keep-alive interval in seconds.
    public var keepAlive: Int32
    /// CONNECT Receive Maximum: how many unacknowledged QoS 1 messages the broker may send us at once.
    public var receiveMaximum: Int32
    /// A fixed will set on every connect. Ignored when `willProvider` is set.
    public var will: MQTTWill?
    /// Called on the network thread before every connect and reconnect; its will replaces the previous one
    /// (Sparkplug needs a fresh `bdSeq` per connection). Returning nil clears the will.
    public var willProvider: (@Sendable () -> MQTTWill?)?
    /// Called on the network thread when the broker accepts a connection (successful CONNACK), before
    /// `connectionEvents()` reports it and before the next `willProvider` call: a Sparkplug edge node commits
    /// the bdSeq of the Will it offered here, so a refused attempt does not use up a number.
    public var onConnectionAccepted: (@Sendable () -> Void)?
    /// Backoff between reconnect attempts.
    public var reconnect: ReconnectPolicy

    /// TLS settings, passed to `mosquitto_tls_set`.
    public struct TLS: Sendable, Hashable {
        /// PEM file of trusted CA certificates; nil uses the system's default trust store.
        public var caFile: String?
        /// Client certificate (PEM) for mutual TLS.
        public var certificateFile: String?
        /// Private key (PEM) of the client certificate.
        public var keyFile: String?
        /// Skip the host name check of the server certificate. For tests only.
        public var insecureSkipHostnameCheck: Bool

        /// Creates TLS settings.
        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                    insecureSkipHostnameCheck: Bool = false) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.insecureSkipHostnameCheck = insecureSkipHostnameCheck
        }
    }

    /// Exponential backoff between reconnect attempts: `minimumDelay`, doubled after every failed attempt,
    /// capped at `maximumDelay`, back to `minimumDelay` after a successful CONNACK.
    public struct ReconnectPolicy: Sendable, Hashable {
        /// First delay.
        public var minimumDelay: Duration
        /// Largest delay.
        public var maximumDelay: Duration

        /// Creates a policy; `maximumDelay` is raised to `minimumDelay` if smaller.
        public init(minimumDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(30)) {
            self.minimumDelay = minimumDelay
            self.maximumDelay = max(minimumDelay, maximumDelay)
        }
    }

    /// Creates a configuration with a non-persistent session (clean start, expiry 0).
    public init(host: String, port: Int = 1883, clientID: String, username: String? = nil,
                password: String? = nil, tls: TLS? = nil, cleanStart: Bool = true, sessionExpiry: UInt32 = 0,
                keepAlive: Int32 = 30, receiveMaximum: Int32 = 100, will: MQTTWill? = nil,
                willProvider: (@Sendable () -> MQTTWill?)? = nil, reconnect: ReconnectPolicy = .init()) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.username = username
        self.password = password
        self.tls = tls
        self.cleanStart = cleanStart
        self.sessionExpiry = sessionExpiry
        self.keepAlive = keepAlive
        self.receiveMaximum = receiveMaximum
        self.will = will
        self.willProvider = willProvider
        self.reconnect = reconnect
    }

    /// Creates a configuration from an `mqtt://` or `mqtts://` URL (see `MQTTURL`). `mqtts` enables TLS with
    /// the system trust store; set `tls` afterwards for a CA file or a client certificate.
    public init(url: String, clientID: String) throws(MQTTError) {
        let parsed = try MQTTURL(parsing: url)
        self.init(host: parsed.host, port: parsed.port, clientID: clientID, username: parsed.username,
                  password: parsed.password, tls: parsed.usesTLS ? TLS() : nil)
    }

    /// Makes the session survive disconnects: clean start off and the given Session Expiry Interval.
    /// With a fixed `clientID` the broker queues QoS 1 messages while the client is away.
    public mutating func makePersistent(sessionExpiry seconds: UInt32 = 3600) {
        cleanStart = false
        sessionExpiry = seconds
    }

    /// Rejects values libmosquitto would refuse later with a vaguer message.
    func validate() throws(MQTTError) {
        func invalid(_ why: String) -> MQTTError {
            MQTTError(code: .invalidConfiguration, message: why, context: "MQTT configuration for \(host):\(port)")
        }
        if host.isEmpty { throw invalid("host is empty") }
        if !(1...65535).contains(port) { throw invalid("port \(port) is outside 1...65535") }
        if clientID.utf8.count > 65535 { throw invalid("client id is longer than 65535 bytes") }
        if clientID.isEmpty && !cleanStart {
            throw invalid("a persistent session (cleanStart false) needs a fixed, non-empty client id")
        }
        if !(1...65535).contains(receiveMaximum) { throw invalid("receiveMaximum \(receiveMaximum) is outside 1...65535") }
        if keepAlive < 5 { throw invalid("keepAlive \(keepAlive) s is below libmosquitto's minimum of 5 s") }
        if password != nil && username == nil { throw invalid("a password needs a user name") }
    }

    public var description: String {
        var text = "\(tls == nil ? "mqtt" : "mqtts")://"
        if let username { text += username + (password == nil ? "" : ":***") + "@" }
        return text + "\(host):\(port) client=\(clientID) cleanStart=\(cleanStart) sessionExpiry=\(sessionExpiry)s"
    }
}
