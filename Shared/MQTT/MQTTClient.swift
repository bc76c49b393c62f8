import CMosquitto
import Logging

/// An MQTT 5 client over libmosquitto.
///
/// The network loop runs on a dedicated thread that reconnects with exponential backoff, calls the
/// configuration's `willProvider` before each attempt and re-sends subscriptions when the broker did not
/// resume the session. Incoming messages go to `messages` or, for a durable consumer, to a synchronous
/// handler that runs before the message is acknowledged (`init(configuration:logger:durableHandler:)`).
///
/// ```swift
/// let client = try MQTTClient(configuration: .init(url: "mqtt://127.0.0.1:1883", clientID: "stream-1"))
/// try await client.connect()
/// try await client.subscribe(to: "spBv1.0/#", qos: .atLeastOnce)
/// for await message in client.messages { … }
/// ```
public final class MQTTClient: Sendable {
    /// Incoming messages of a non-durable client, in arrival order. A single consumer should iterate it;
    /// the buffer is unbounded, so a slow consumer costs memory, not messages. Empty for a durable client.
    public let messages: MQTTMessageStream
    let connection: MosquittoConnection

    /// Creates a client that delivers incoming messages to `messages`.
    public init(configuration: MQTTConfiguration, logger: Logger = Logger(label: "shopfloor.mqtt")) throws(MQTTError) {
        let buffer = MessageBuffer()
        messages = MQTTMessageStream(buffer: buffer)
        connection = try MosquittoConnection(configuration: configuration, logger: logger, delivery: .stream(buffer))
    }

    /// Creates a durable consumer: `durableHandler` runs on the network thread inside libmosquitto's
    /// `on_message`, and the QoS 1 PUBACK reaches the broker only after it returns. Make the message durable
    /// there (e.g. `MessageJournal.append`) and return quickly. If it throws, the client cuts the connection
    /// without acknowledging, reconnects, and the broker redelivers (use a persistent session:
    /// `MQTTConfiguration.makePersistent`).
    public init(configuration: MQTTConfiguration, logger: Logger = Logger(label: "shopfloor.mqtt"),
                durableHandler: @escaping @Sendable (MQTTMessage) throws -> Void) throws(MQTTError) {
        let buffer = MessageBuffer()
        buffer.finish()
        messages = MQTTMessageStream(buffer: buffer)
        connection = try MosquittoConnection(configuration: configuration, logger: logger,
                                             delivery: .durable(durableHandler))
    }

    deinit {
        connection.requestStop()
    }

    /// Connects and returns after the broker accepted (CONNACK). Throws the first failure (with
    /// libmosquitto's reason) and stops; after a success, later drops are reconnected automatically.
    public func connect() async throws {
        try await withCheckedThrowingContinuation { continuation in
            connection.start(waiter: continuation)
        }
    }

    /// Starts connecting in the background and keeps retrying with backoff until `disconnect()`; watch
    /// `connectionEvents()` to learn when it is connected.
    public func start() {
        connection.start(waiter: nil)
    }

    /// Sends DISCONNECT and stops reconnecting. `sendWill: true` uses reason code 4 ("disconnect with will
    /// message") so the broker still publishes the will. Waiting operations fail with `.closed`.
    public func disconnect(sendWill: Bool = false) async {
        await connection.stop(reasonCode: sendWill ? Int32(MQTT_RC_DISCONNECT_WITH_WILL_MSG.rawValue) : 0)
    }

    /// Whether the client currently has an accepted connection.
    public var isConnected: Bool {
        connection.state.withLock { $0.connected }
    }

    /// A stream of connection changes, starting with the current state. Each call makes an independent
    /// stream; a service typically publishes its births on every `.connected`.
    public func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        connection.connectionEvents()
    }

    /// Publishes `message`. QoS 0 returns once queued; QoS 1 returns when the broker's PUBACK arrives (across
    /// reconnects: libmosquitto re-sends unacknowledged messages). While the broker is away that can take
    /// as long as the outage; `disconnect()` ends the wait with `.closed`, and after it a publish fails at once.
    public func publish(_ message: MQTTMessage) async throws {
        let context = "publish to \"\(message.topic)\""
        if message.qos == .atMostOnce {
            let (rc, _) = connection.handle.publish(message)
            try check(rc, .publishFailed, context)
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let rc = connection.pending.withLock { pending -> Int32 in
                // After disconnect() nothing would ever acknowledge it: fail now rather than wait forever.
                guard !pending.stopped else { return MOSQ_ERR_NO_CONN.rawValue }
                let (rc, mid) = connection.handle.publish(message)
                if rc == MOSQ_ERR_SUCCESS.rawValue { pending.publishes[mid] = continuation }
                return rc
            }
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                continuation.resume(throwing: error(rc, .publishFailed, context))
            }
        }
    }

    /// Publishes `payload` on `topic`; see `publish(_:)`.
    public func publish(topic: String, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false) async throws {
        try await publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain))
    }

    /// Subscribes to `filter` (wildcards and `$share/<group>/<filter>` allowed) and returns the granted QoS.
    /// The filter is remembered and re-sent after every reconnect that did not resume the session. When
    /// not connected, it is only remembered (sent on connect) and `qos` is returned.
    @discardableResult
    public func subscribe(to filter: String, qos: MQTTQoS = .atLeastOnce) async throws -> MQTTQoS {
        // Before the CONNACK, SUBSCRIBE is only recorded: sent on a socket still connecting it could reach the
        // broker before CONNECT (a protocol error that drops the connection), and it would never be answered.
        let connected = connection.state.withLock { state in
            if let index = state.subscriptions.firstIndex(where: { $0.filter == filter }) {
                state.subscriptions[index].qos = qos
            } else {
                state.subscriptions.append((filter, qos))
            }
            if !state.connected { state.unsent.append(filter) }
            return state.connected
        }
        guard connected else { return qos }
        let context = "subscribe to \"\(filter)\""
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<MQTTQoS, any Error>) in
            let rc = connection.pending.withLock { pending -> Int32 in
                let (rc, mid) = connection.handle.subscribe(filter, qos: qos)
                if rc == MOSQ_ERR_SUCCESS.rawValue { pending.subscribes[mid] = (filter, continuation) }
                return rc
            }
            if rc == MOSQ_ERR_NO_CONN.rawValue {
                connection.state.withLock { $0.unsent.append(filter) }
                continuation.resume(returning: qos)
            } else if rc != MOSQ_ERR_SUCCESS.rawValue {
                connection.state.withLock { $0.subscriptions.removeAll { $0.filter == filter } }
                continuation.resume(throwing: error(rc, .subscribeFailed, context))
            }
        }
    }

    /// Unsubscribes from `filter` and forgets it; returns after the broker's UNSUBACK (at once when not
    /// connected).
    public func unsubscribe(from filter: String) async throws {
        let connected = connection.state.withLock { state in
            state.subscriptions.removeAll { $0.filter == filter }
            state.unsent.removeAll { $0 == filter }
            return state.connected
        }
        guard connected else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let rc = connection.pending.withLock { pending -> Int32 in
                let (rc, mid) = connection.handle.unsubscribe(filter)
                if rc == MOSQ_ERR_SUCCESS.rawValue { pending.unsubscribes[mid] = continuation }
                return rc
            }
            if rc == MOSQ_ERR_NO_CONN.rawValue {
                continuation.resume()
            } else if rc != MOSQ_ERR_SUCCESS.rawValue {
                continuation.resume(throwing: error(rc, .subscribeFailed, "unsubscribe from \"\(filter)\""))
            }
        }
    }

    private func error(_ rc: Int32, _ code: MQTTError.Code, _ context: String) -> MQTTError {
        .mosquitto(rc == MOSQ_ERR_NO_CONN.rawValue ? .notConnected : code, rc: rc, context: context)
    }

    private func check(_ rc: Int32, _ code: MQTTError.Code, _ context: String) throws(MQTTError) {
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw error(rc, code, context) }
    }
}
