import CMosquitto
import Foundation

/// Owner of one `struct mosquitto *`: creates it, configures it, frees it in `deinit`.
///
/// `@unchecked Sendable`: the handle is shared between the network thread and API callers. libmosquitto in
/// threaded mode (`mosquitto_threaded_set(true)`) locks internally for `publish`/`subscribe`/`unsubscribe`/
/// `disconnect`, which is all API callers use; `connect`, `loop`, `setWill` and `shutdownSocket` are only
/// called from the network thread (`MosquittoConnection.runNetworkLoop`).
final class MosquittoHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// libmosquitto's process-wide initialisation, run once (a static `let` is initialised exactly once).
    private static let libraryInitialized: Int32 = mosquitto_lib_init()

    /// Creates and configures a handle; on any failure the half-made handle is destroyed before throwing.
    init(configuration: MQTTConfiguration) throws(MQTTError) {
        _ = MosquittoHandle.libraryInitialized
        let context = "MQTT client \"\(configuration.clientID)\""
        // MQTT 5 takes the Clean Start flag from mosquitto_new's clean_session argument.
        guard let created = configuration.clientID.withCString({ id in
            mosquitto_new(configuration.clientID.isEmpty ? nil : id, configuration.cleanStart, nil)
        }) else {
            throw MQTTError(code: .invalidConfiguration, message: "mosquitto_new failed: \(String(cString: strerror(errno)))",
                            context: context)
        }
        pointer = created
        // From here on deinit frees `pointer` if a configuration step throws.
        try check(mosquitto_int_option(pointer, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5), context)
        try check(mosquitto_int_option(pointer, MOSQ_OPT_RECEIVE_MAXIMUM, configuration.receiveMaximum), context)
        try check(mosquitto_int_option(pointer, MOSQ_OPT_TCP_NODELAY, 1), context)
        // We run mosquitto_loop on our own thread; threaded mode makes other threads queue packets and wake
        // that thread instead of writing to the socket themselves.
        try check(mosquitto_threaded_set(pointer, true), context)
        if let username = configuration.username {
            try check(mosquitto_username_pw_set(pointer, username, configuration.password), "\(context): set user name")
        }
        if let tls = configuration.tls {
            let rc: Int32
            if tls.caFile == nil {
                // No CA file: trust the operating system's store.
                rc = mosquitto_int_option(pointer, MOSQ_OPT_TLS_USE_OS_CERTS, 1)
                if rc == MOSQ_ERR_SUCCESS.rawValue, tls.certificateFile != nil || tls.keyFile != nil {
                    try check(mosquitto_tls_set(pointer, nil, nil, tls.certificateFile, tls.keyFile, nil),
                              "\(context): TLS client certificate")
                }
            } else {
                rc = mosquitto_tls_set(pointer, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil)
            }
            let files = [tls.caFile, tls.certificateFile, tls.keyFile].compactMap { $0 }.joined(separator: ", ")
            try check(rc, "\(context): TLS setup (files: \(files.isEmpty ? "none" : files))")
            try check(mosquitto_tls_insecure_set(pointer, tls.insecureSkipHostnameCheck), "\(context): TLS")
        }
    }

    deinit {
        mosquitto_destroy(pointer)
    }

    /// Sets the opaque pointer libmosquitto hands to every callback.
    func setUserData(_ data: UnsafeMutableRawPointer) {
        mosquitto_user_data_set(pointer, data)
    }

    /// Replaces the will (network thread only, while disconnected). libmosquitto takes ownership of the
    /// property list only on success, so it is released to it only then.
    func setWill(_ will: MQTTWill?) -> Int32 {
        guard let will else { return mosquitto_will_clear(pointer) }
        let properties = MosquittoProperties()
        properties.addUserProperties(will.userProperties)
        let list = properties.list
        let rc = will.payload.withUnsafeBytes { bytes in
            mosquitto_will_set_v5(pointer, will.topic, Int32(bytes.count), bytes.baseAddress, will.qos.rawValue,
                                  will.retain, list)
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue { properties.releaseOwnership() }
        return rc
    }

    /// Blocking TCP (+TLS) connect and CONNECT send (network thread only). Returns the rc and `errno`.
    func connect(host: String, port: Int, keepAlive: Int32, sessionExpiry: UInt32) -> (rc: Int32, errno: Int32) {
        let properties = MosquittoProperties()
        if sessionExpiry > 0 {
            properties.addInt32(MQTT_PROP_SESSION_EXPIRY_INTERVAL, sessionExpiry)
        }
        let rc = mosquitto_connect_bind_v5(pointer, host, Int32(port), keepAlive, nil, properties.list)
        return (rc, errno)
    }

    /// One iteration of libmosquitto's network loop (network thread only); callbacks run inside it.
    func loop(timeoutMilliseconds: Int32) -> (rc: Int32, errno: Int32) {
        let rc = mosquitto_loop(pointer, timeoutMilliseconds, 1)
        return (rc, errno)
    }

    /// Queues a DISCONNECT with `reasonCode`; any thread.
    @discardableResult
    func disconnect(reasonCode: Int32) -> Int32 {
        mosquitto_disconnect_v5(pointer, reasonCode, nil)
    }

    /// Cuts the socket without a DISCONNECT so nothing queued (like a PUBACK) reaches the broker.
    func shutdownSocket() {
        let socket = mosquitto_socket(pointer)
        if socket >= 0 { _ = shutdown(socket, Int32(SHUT_RDWR)) }
    }

    /// Queues a PUBLISH; any thread. Returns the rc and the message id.
    func publish(_ message: MQTTMessage) -> (rc: Int32, mid: Int32) {
        let properties = MosquittoProperties()
        properties.addUserProperties(message.userProperties)
        if let responseTopic = message.responseTopic { properties.addString(MQTT_PROP_RESPONSE_TOPIC, responseTopic) }
        if let correlation = message.correlationData { properties.addBinary(MQTT_PROP_CORRELATION_DATA, correlation) }
        if let contentType = message.contentType { properties.addString(MQTT_PROP_CONTENT_TYPE, contentType) }
        var mid: Int32 = 0
        let rc = message.payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(pointer, &mid, message.topic, Int32(bytes.count), bytes.baseAddress,
                                 message.qos.rawValue, message.retain, properties.list)
        }
        return (properties.error ?? rc, mid)
    }

    /// Queues a SUBSCRIBE; any thread.
    func subscribe(_ filter: String, qos: MQTTQoS) -> (rc: Int32, mid: Int32) {
        var mid: Int32 = 0
        let rc = mosquitto_subscribe_v5(pointer, &mid, filter, qos.rawValue, 0, nil)
        return (rc, mid)
    }

    /// Queues an UNSUBSCRIBE; any thread.
    func unsubscribe(_ filter: String) -> (rc: Int32, mid: Int32) {
        var mid: Int32 = 0
        let rc = mosquitto_unsubscribe_v5(pointer, &mid, filter, nil)
        return (rc, mid)
    }

    private func check(_ rc: Int32, _ context: String) throws(MQTTError) {
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            throw MQTTError.mosquitto(.invalidConfiguration, rc: rc, context: context, savedErrno: errno)
        }
    }
}
