/// MQTT delivery guarantee. QoS 2 is left out on purpose: Shopfloor's consumers deduplicate instead.
public enum MQTTQoS: Int32, Sendable, Hashable, CaseIterable {
    /// Fire and forget.
    case atMostOnce = 0
    /// Acknowledged with PUBACK; may be delivered more than once.
    case atLeastOnce = 1
}

/// One MQTT 5 user property: a name/value string pair. Names may repeat, order is kept.
public struct MQTTUserProperty: Sendable, Hashable {
    /// The property name.
    public var name: String
    /// The property value.
    public var value: String

    /// Creates a user property.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An MQTT application message, incoming (from `MQTTClient.messages` or a durable handler) or outgoing
/// (`MQTTClient.publish(_:)`). Every field is a copy owned by Swift; nothing points into libmosquitto.
public struct MQTTMessage: Sendable, Hashable {
    /// The topic name (never a filter).
    public var topic: String
    /// The payload bytes.
    public var payload: [UInt8]
    /// The QoS the message was delivered (or is to be published) with.
    public var qos: MQTTQoS
    /// Incoming: the broker delivered it from its retained store. Outgoing: ask the broker to retain it.
    public var retain: Bool
    /// MQTT 5 user properties, in wire order.
    public var userProperties: [MQTTUserProperty]
    /// MQTT 5 Response Topic: where a requester wants the answer.
    public var responseTopic: String?
    /// MQTT 5 Correlation Data: echoed by a responder so the requester can match the answer.
    public var correlationData: [UInt8]?
    /// MQTT 5 Content Type, e.g. `application/json`.
    public var contentType: String?

    /// Creates a message.
    public init(topic: String, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
                userProperties: [MQTTUserProperty] = [], responseTopic: String? = nil,
                correlationData: [UInt8]? = nil, contentType: String? = nil) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.userProperties = userProperties
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.contentType = contentType
    }

    /// Creates a message whose payload is the UTF-8 bytes of `text`.
    public init(topic: String, text: String, qos: MQTTQoS = .atMostOnce, retain: Bool = false) {
        self.init(topic: topic, payload: Array(text.utf8), qos: qos, retain: retain)
    }

    /// The first user property called `name`, if any.
    public func userProperty(_ name: String) -> String? {
        userProperties.first { $0.name == name }?.value
    }
}

/// A last-will message the broker publishes when the client goes away without a normal DISCONNECT.
public struct MQTTWill: Sendable, Hashable {
    /// Topic the broker publishes the will on.
    public var topic: String
    /// Will payload.
    public var payload: [UInt8]
    /// Will QoS.
    public var qos: MQTTQoS
    /// Whether the broker retains the will message.
    public var retain: Bool
    /// MQTT 5 user properties carried by the will.
    public var userProperties: [MQTTUserProperty]

    /// Creates a will.
    public init(topic: String, payload: [UInt8], qos: MQTTQoS = .atLeastOnce, retain: Bool = false,
                userProperties: [MQTTUserProperty] = []) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.userProperties = userProperties
    }
}

/// A change of the client's connection, delivered by `MQTTClient.connectionEvents()`.
public enum MQTTConnectionEvent: Sendable, Equatable {
    /// CONNACK accepted. `sessionPresent`: the broker resumed the previous session (its subscriptions and
    /// queued messages); when false the client has re-sent its subscriptions.
    case connected(sessionPresent: Bool)
    /// The connection is gone (or a connect attempt failed); `error` is nil after a requested disconnect.
    case disconnected(MQTTError?)
}
