import Foundation
import CMosquitto

/// The one error type of the MQTT library: a stable `code`, libmosquitto's own error or MQTT reason code
/// where there is one, the library's text for it, and what we were doing. Never holds a password.
public struct MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable error category; match on this, not on the message text.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// A URL or configuration value was rejected before any network traffic.
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        /// The TCP/TLS connection or the CONNECT handshake failed.
        public static let connectFailed = Code(name: "connectFailed")
        /// The broker answered CONNECT with a failure reason code.
        public static let connectionRefused = Code(name: "connectionRefused")
        /// The operation needs a connection and there is none.
        public static let notConnected = Code(name: "notConnected")
        /// The connection dropped.
        public static let connectionLost = Code(name: "connectionLost")
        /// libmosquitto refused to queue a PUBLISH.
        public static let publishFailed = Code(name: "publishFailed")
        /// libmosquitto refused to queue a SUBSCRIBE or UNSUBSCRIBE.
        public static let subscribeFailed = Code(name: "subscribeFailed")
        /// The broker refused a subscription in its SUBACK.
        public static let subscriptionRefused = Code(name: "subscriptionRefused")
        /// A request got no response in time.
        public static let timeout = Code(name: "timeout")
        /// The client was disconnected by the caller while the operation was waiting.
        public static let closed = Code(name: "closed")
        /// A message journal file could not be read or written.
        public static let journal = Code(name: "journal")
        /// A request handler failed; the responder answered with an error.
        public static let remoteFailure = Code(name: "remoteFailure")
    }

    /// The stable category.
    public var code: Code
    /// libmosquitto's `MOSQ_ERR_*` value, when libmosquitto reported the error.
    public var mosquittoCode: Int32?
    /// The MQTT 5 reason code from the broker (CONNACK, SUBACK, DISCONNECT), when there is one.
    public var reasonCode: Int32?
    /// Human-readable text: libmosquitto's `mosquitto_strerror`/`mosquitto_reason_string` or ours.
    public var message: String
    /// What we were doing, e.g. `connect to 127.0.0.1:1883`.
    public var context: String

    /// Creates an error; prefer the static factories.
    public init(code: Code, message: String, context: String, mosquittoCode: Int32? = nil, reasonCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.mosquittoCode = mosquittoCode
        self.reasonCode = reasonCode
    }

    public var description: String {
        var text = "\(context): \(message)"
        if let mosquittoCode { text += " (libmosquitto error \(mosquittoCode))" }
        if let reasonCode { text += " (MQTT reason code \(reasonCode))" }
        return text
    }

    /// An error from a libmosquitto return value, with `mosquitto_strerror`'s text.
    /// `savedErrno` matters for `MOSQ_ERR_ERRNO`, whose text libmosquitto takes from `errno`.
    static func mosquitto(_ code: Code, rc: Int32, context: String, savedErrno: Int32? = nil) -> MQTTError {
        let text: String
        if rc == Int32(MOSQ_ERR_ERRNO.rawValue), let savedErrno {
            text = String(cString: strerror(savedErrno))
        } else {
            text = String(cString: mosquitto_strerror(rc))
        }
        return MQTTError(code: code, message: text, context: context, mosquittoCode: rc)
    }

    /// An error from an MQTT 5 reason code, with `mosquitto_reason_string`'s text.
    static func reason(_ code: Code, reasonCode: Int32, context: String) -> MQTTError {
        MQTTError(code: code, message: String(cString: mosquitto_reason_string(reasonCode)), context: context,
                  reasonCode: reasonCode)
    }
}
