import CMosquitto
import Foundation

/// Owner of an outgoing `mosquitto_property` list; frees it in `deinit` unless ownership moved to
/// libmosquitto (`releaseOwnership()`, for `mosquitto_will_set_v5`). Used on one thread at a time.
final class MosquittoProperties {
    private(set) var list: OpaquePointer?
    /// The first failing `mosquitto_property_add_*` rc; the caller reports it instead of sending a
    /// message without the property.
    private(set) var error: Int32?

    init() {}

    deinit {
        if list != nil { mosquitto_property_free_all(&list) }
    }

    /// Forgets the list after libmosquitto took it over.
    func releaseOwnership() { list = nil }

    func addUserProperties(_ properties: [MQTTUserProperty]) {
        for property in properties {
            record(mosquitto_property_add_string_pair(&list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), property.name, property.value))
        }
    }

    func addString(_ identifier: mqtt5_property, _ value: String) {
        record(mosquitto_property_add_string(&list, Int32(identifier.rawValue), value))
    }

    func addBinary(_ identifier: mqtt5_property, _ value: [UInt8]) {
        guard value.count <= Int(UInt16.max) else {
            record(MOSQ_ERR_INVAL.rawValue)
            return
        }
        record(value.withUnsafeBytes { mosquitto_property_add_binary(&list, Int32(identifier.rawValue), $0.baseAddress, UInt16($0.count)) })
    }

    func addInt32(_ identifier: mqtt5_property, _ value: UInt32) {
        record(mosquitto_property_add_int32(&list, Int32(identifier.rawValue), value))
    }

    private func record(_ rc: Int32) {
        if rc != MOSQ_ERR_SUCCESS.rawValue, error == nil { error = rc }
    }

    /// Copies the properties Shopfloor uses out of an incoming PUBLISH's list (owned by libmosquitto, valid
    /// only during the callback) into `message`.
    static func read(_ properties: OpaquePointer?, into message: inout MQTTMessage) {
        var current = properties
        while let property = current {
            switch mosquitto_property_identifier(property) {
            case Int32(MQTT_PROP_USER_PROPERTY.rawValue):
                var name: UnsafeMutablePointer<CChar>?
                var value: UnsafeMutablePointer<CChar>?
                if mosquitto_property_read_string_pair(property, Int32(MQTT_PROP_USER_PROPERTY.rawValue), &name, &value, false) != nil,
                   let name, let value {
                    message.userProperties.append(MQTTUserProperty(String(cString: name), String(cString: value)))
                }
                free(name)
                free(value)
            case Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue):
                message.responseTopic = readString(property, MQTT_PROP_RESPONSE_TOPIC)
            case Int32(MQTT_PROP_CONTENT_TYPE.rawValue):
                message.contentType = readString(property, MQTT_PROP_CONTENT_TYPE)
            case Int32(MQTT_PROP_CORRELATION_DATA.rawValue):
                var value: UnsafeMutableRawPointer?
                var length: UInt16 = 0
                if mosquitto_property_read_binary(property, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &value, &length, false) != nil {
                    message.correlationData = value.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? []
                }
                free(value)
            default:
                break
            }
            current = mosquitto_property_next(property)
        }
    }

    private static func readString(_ property: OpaquePointer, _ identifier: mqtt5_property) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard mosquitto_property_read_string(property, Int32(identifier.rawValue), &value, false) != nil, let value else {
            return nil
        }
        defer { free(value) }
        return String(cString: value)
    }
}
