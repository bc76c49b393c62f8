import CMosquitto
import Dispatch
import Foundation
import Logging
import Synchronization

/// How incoming messages leave the network thread.
enum MosquittoDelivery: Sendable {
    /// Copied into the buffer behind `MQTTClient.messages`; acknowledged right away.
    case stream(MessageBuffer)
    /// Handed to a synchronous handler inside `on_message`, before libmosquitto's PUBACK can be written.
    case durable(@Sendable (MQTTMessage) throws -> Void)
}

/// The engine behind `MQTTClient`: owns the libmosquitto handle, runs its network loop on a dedicated
/// thread (never the cooperative pool: `mosquitto_connect` blocks), reconnects with backoff, and turns
/// libmosquitto callbacks into resumed continuations, stream elements and connection events.
///
/// It is also the callbacks' context: libmosquitto gets `Unmanaged.passUnretained(self)` as user data.
/// That pointer stays valid because this object owns `handle` (so the handle cannot outlive it) and
/// callbacks only run inside `mosquitto_loop`, which only the network thread calls while it holds a strong
/// reference to this object.
final class MosquittoConnection: Sendable {
    let configuration: MQTTConfiguration
    let logger: Logger
    let handle: MosquittoHandle
    let delivery: MosquittoDelivery
    /// Connection state, waiters, subscriptions, listeners; locked briefly, never across a blocking call.
    let state = Mutex(State())
    /// In-flight QoS 1 publishes, subscribes and unsubscribes by message id. Held while
    /// `mosquitto_publish_v5` etc. assign the mid, so the acknowledgement callback (which takes this lock
    /// on the network thread) always finds the waiter registered.
    let pending = Mutex(PendingOperations())
    /// Wakes the network thread from its reconnect backoff when the client stops.
    let wakeup = DispatchSemaphore(value: 0)
    /// Mirrors `state.routes.count` so `on_message` skips the lock when nothing is routed (the common case).
    let routeCount = Atomic<Int>(0)
    /// A durable handler failed on this connection; reset by the next CONNACK. Atomic so `on_message` takes no lock.
    let rejectingDeliveries = Atomic<Bool>(false)

    struct Route: Sendable {
        /// The filter with any `$share/<group>/` prefix removed, for `mosquitto_topic_matches_sub`.
        var matchFilter: String
        var handler: @Sendable (MQTTMessage) -> Void
    }

    struct State {
        var threadRunning = false
        var stopRequested = false
        var stopReason: Int32 = 0
        var connected = false
        /// `connect()` is waiting: the first failed attempt ends the thread instead of backing off.
        var failFast = false
        var connectWaiters: [CheckedContinuation<Void, any Error>] = []
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        /// Filters to re-send after a connect that did not resume the session, in first-subscribed order.
        var subscriptions: [(filter: String, qos: MQTTQoS)] = []
        /// Filters the broker may not have: subscribed while not connected, or whose SUBSCRIBE was in flight
        /// when the connection dropped. Sent after the next CONNACK even when the session was resumed.
        var unsent: [String] = []
        var routes: [Int: Route] = [:]
        var nextID = 0
        var listeners: [Int: AsyncStream<MQTTConnectionEvent>.Continuation] = [:]
        var lastEvent: MQTTConnectionEvent = .disconnected(nil)
        /// Set by the CONNACK callback; the loop resets its backoff after a successful connection.
        var connackAccepted = false
        /// The CONNACK callback already reported this attempt's refusal.
        var refusalReported = false
    }

    struct PendingOperations {
        var publishes: [Int32: CheckedContinuation<Void, any Error>] = [:]
        var subscribes: [Int32: (filter: String, continuation: CheckedContinuation<MQTTQoS, any Error>)] = [:]
        var unsubscribes: [Int32: CheckedContinuation<Void, any Error>] = [:]
        /// Set when the network thread ends (a stop), cleared by the next start: a QoS 1 publish in between
        /// would wait for a PUBACK no connection will bring.
        var stopped = false
    }

    init(configuration: MQTTConfiguration, logger: Logger, delivery: MosquittoDelivery) throws(MQTTError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        self.delivery = delivery
        handle = try MosquittoHandle(configuration: configuration)
        handle.setUserData(Unmanaged.passUnretained(self).toOpaque())
        mosquitto_connect_v5_callback_set(handle.pointer, onConnect)
        mosquitto_disconnect_v5_callback_set(handle.pointer, onDisconnect)
        mosquitto_publish_v5_callback_set(handle.pointer, onPublish)
        mosquitto_message_v5_callback_set(handle.pointer, onMessage)
        mosquitto_subscribe_v5_callback_set(handle.pointer, onSubscribe)
        mosquitto_unsubscribe_v5_callback_set(handle.pointer, onUnsubscribe)
    }

    private var endpoint: String { "\(configuration.host):\(configuration.port)" }

    // MARK: Thread lifecycle

    /// Starts the network thread unless it runs. `failFast`: end after the first failed attempt.
    func start(waiter: CheckedContinuation<Void, any Error>?) {
        let launch = state.withLock { state -> Bool in
            if let waiter {
                if state.connected && !state.stopRequested {
                    waiter.resume()
                    return false
                }
                state.connectWaiters.append(waiter)
                if !state.threadRunning { state.failFast = true }
            }
            guard !state.threadRunning else { return false }
            state.threadRunning = true
            state.stopRequested = false
            return true
        }
        guard launch else { return }
        pending.withLock { $0.stopped = false }
        // The thread holds `self` strongly until it returns: see the type's comment on the context pointer.
        let thread = Thread { [self] in runNetworkLoop() }
        thread.name = "mqtt-\(configuration.clientID)"
        thread.start()
    }

    /// Asks the network thread to send DISCONNECT with `reasonCode` and end; returns when it has.
    func stop(reasonCode: Int32) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let running = state.withLock { state -> Bool in
                guard state.threadRunning else { return false }
                state.stopRequested = true
                state.stopReason = reasonCode
                state.stopWaiters.append(continuation)
                return true
            }
            guard running else {
                continuation.resume()
                return
            }
            // Wakes a select() in mosquitto_loop at once; the thread repeats it if this raced a connect.
            handle.disconnect(reasonCode: reasonCode)
            wakeup.signal()
        }
    }

    /// Non-waiting stop, for `MQTTClient.deinit`.
    func requestStop() {
        let running = state.withLock { state -> Bool in
            state.stopRequested = true
            return state.threadRunning
        }
        if running {
            handle.disconnect(reasonCode: 0)
            wakeup.signal()
        }
    }

    /// The network thread: connect, loop until the connection drops, back off, repeat until stopped.
    private func runNetworkLoop() {
        var delay = configuration.reconnect.minimumDelay
        while !state.withLock({ $0.stopRequested }) {
            let will = configuration.willProvider?() ?? (configuration.willProvider == nil ? configuration.will : nil)
            let willRC = handle.setWill(will)
            if willRC != MOSQ_ERR_SUCCESS.rawValue {
                attemptFailed(.mosquitto(.invalidConfiguration, rc: willRC, context: "set will for \(endpoint)"))
                if !backOff(&delay) { break }
                continue
            }
            state.withLock {
                $0.connackAccepted = false
                $0.refusalReported = false
            }
            let (rc, savedErrno) = handle.connect(host: configuration.host, port: configuration.port,
                                                  keepAlive: configuration.keepAlive,
                                                  sessionExpiry: configuration.sessionExpiry)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                let error = MQTTError.mosquitto(.connectFailed, rc: rc, context: "connect to \(endpoint)",
                                                savedErrno: savedErrno)
                logger.warning("MQTT connect failed", metadata: ["error": "\(error)"])
                attemptFailed(error)
                if !backOff(&delay) { break }
                continue
            }
            var disconnectSent = false
            while true {
                let (loopRC, loopErrno) = handle.loop(timeoutMilliseconds: 1000)
                if loopRC != MOSQ_ERR_SUCCESS.rawValue {
                    if loopRC != MOSQ_ERR_NO_CONN.rawValue {
                        logger.debug("MQTT network loop ended", metadata: [
                            "error": "\(MQTTError.mosquitto(.connectionLost, rc: loopRC, context: "loop", savedErrno: loopErrno))",
                        ])
                    }
                    break
                }
                if case .stream(let buffer) = delivery {
                    // Waiting up to 200 µs for the next packet before waking the consumer turns a burst
                    // into few wake-ups; each costs more CPU than a message, CPU the broker may need.
                    buffer.flush { shopfloor_mosquitto_readable_within(handle.pointer, 200) != 0 }
                }
                let (stop, reason) = state.withLock { ($0.stopRequested, $0.stopReason) }
                if stop && !disconnectSent {
                    // stop() may have raced the connect and found no socket; send the DISCONNECT now.
                    handle.disconnect(reasonCode: reason)
                    disconnectSent = true
                }
            }
            let (accepted, stop, refused) = state.withLock { ($0.connackAccepted, $0.stopRequested, $0.refusalReported) }
            if !accepted && !stop && !refused {
                // Lost before any CONNACK.
                attemptFailed(MQTTError(code: .connectFailed, message: "connection closed before CONNACK",
                                        context: "connect to \(endpoint)"))
            }
            if accepted { delay = configuration.reconnect.minimumDelay }
            if stop || !backOff(&delay) { break }
        }
        finishThread()
    }

    /// Waits out the current delay (cut short by `stop`) and doubles it. False when the thread should end.
    private func backOff(_ delay: inout Duration) -> Bool {
        if state.withLock({ $0.stopRequested }) { return false }
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
        delay = min(delay * 2, configuration.reconnect.maximumDelay)
        return !state.withLock { $0.stopRequested }
    }

    /// Reports a failed connect attempt to `connect()` callers and listeners; fail-fast ends the thread.
    private func attemptFailed(_ error: MQTTError) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            let waiters = state.connectWaiters
            state.connectWaiters = []
            if state.failFast { state.stopRequested = true }
            return waiters
        }
        waiters.forEach { $0.resume(throwing: error) }
        publish(event: .disconnected(error))
    }

    private func finishThread() {
        let (stopWaiters, connectWaiters) = state.withLock { state in
            let result = (state.stopWaiters, state.connectWaiters)
            state.stopWaiters = []
            state.connectWaiters = []
            state.threadRunning = false
            state.stopRequested = false
            state.connected = false
            state.failFast = false
            return result
        }
        let closed = MQTTError(code: .closed, message: "the client was disconnected", context: "MQTT \(endpoint)")
        let failed = pending.withLock { pending in
            defer { pending = PendingOperations(stopped: true) }
            return pending
        }
        failed.publishes.values.forEach { $0.resume(throwing: closed) }
        failed.subscribes.values.forEach { $0.continuation.resume(throwing: closed) }
        failed.unsubscribes.values.forEach { $0.resume(throwing: closed) }
        connectWaiters.forEach { $0.resume(throwing: closed) }
        if case .connected = state.withLock({ $0.lastEvent }) { publish(event: .disconnected(nil)) }
        stopWaiters.forEach { $0.resume() }
    }

    // MARK: Events

    /// Sends `event` to every listener.
    func publish(event: MQTTConnectionEvent) {
        let listeners = state.withLock { state in
            state.lastEvent = event
            return Array(state.listeners.values)
        }
        listeners.forEach { $0.yield(event) }
    }

    /// A new listener stream that starts with the current state.
    func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTConnectionEvent.self, bufferingPolicy: .bufferingNewest(64))
        let id = state.withLock { state in
            state.nextID += 1
            state.listeners[state.nextID] = continuation
            continuation.yield(state.lastEvent)
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    // MARK: Routes (request/response)

    /// Sends messages matching `filter` to `handler` instead of the stream or the durable handler.
    func addRoute(filter: String, handler: @escaping @Sendable (MQTTMessage) -> Void) -> Int {
        var matchFilter = filter
        if filter.hasPrefix("$share/") {
            // $share/<group>/<filter>: messages arrive with topics that match <filter>.
            let parts = filter.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3 { matchFilter = String(parts[2]) }
        }
        return state.withLock { state in
            state.nextID += 1
            state.routes[state.nextID] = Route(matchFilter: matchFilter, handler: handler)
            routeCount.store(state.routes.count, ordering: .releasing)
            return state.nextID
        }
    }

    func removeRoute(_ id: Int) {
        state.withLock { state in
            state.routes.removeValue(forKey: id)
            routeCount.store(state.routes.count, ordering: .releasing)
        }
    }

    // MARK: Callbacks (network thread, inside mosquitto_loop)

    fileprivate func handleConnect(reasonCode: Int32, flags: Int32) {
        guard reasonCode == 0 else {
            let error = MQTTError.reason(.connectionRefused, reasonCode: reasonCode, context: "connect to \(endpoint)")
            logger.warning("MQTT broker refused the connection", metadata: ["error": "\(error)"])
            state.withLock { $0.refusalReported = true }
            attemptFailed(error)
            return
        }
        // CONNACK Acknowledge Flags bit 0: Session Present.
        let sessionPresent = flags & 1 == 1
        let (waiters, resubscribe) = state.withLock { state in
            state.connected = true
            state.connackAccepted = true
            rejectingDeliveries.store(false, ordering: .releasing)
            state.failFast = false
            let waiters = state.connectWaiters
            state.connectWaiters = []
            let unsent = state.unsent
            state.unsent = []
            return (waiters, sessionPresent ? state.subscriptions.filter { unsent.contains($0.filter) } : state.subscriptions)
        }
        configuration.onConnectionAccepted?()
        for subscription in resubscribe {
            // Results come back as onSubscribe for a mid nobody waits on; refusals are logged there.
            let (rc, _) = handle.subscribe(subscription.filter, qos: subscription.qos)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                logger.error("MQTT resubscribe failed", metadata: [
                    "filter": "\(subscription.filter)",
                    "error": "\(MQTTError.mosquitto(.subscribeFailed, rc: rc, context: "resubscribe"))",
                ])
            }
        }
        logger.info("MQTT connected", metadata: ["broker": "\(endpoint)", "sessionPresent": "\(sessionPresent)",
                                                 "resubscribed": "\(resubscribe.count)"])
        publish(event: .connected(sessionPresent: sessionPresent))
        waiters.forEach { $0.resume() }
    }

    fileprivate func handleDisconnect(rc: Int32) {
        let wasConnected = state.withLock { state in
            defer { state.connected = false }
            return state.connected
        }
        guard wasConnected else { return }
        // SUBSCRIBE/UNSUBSCRIBE in flight get no answer on this connection: the subscription is sent again
        // after the next CONNACK, so their callers return now instead of waiting for ever.
        let (subscribes, unsubscribes) = pending.withLock { pending in
            defer { pending.subscribes = [:]; pending.unsubscribes = [:] }
            return (pending.subscribes, pending.unsubscribes)
        }
        let requested = state.withLock { state in
            state.unsent += subscribes.values.map(\.filter)
            return Dictionary(state.subscriptions.map { ($0.filter, $0.qos) }, uniquingKeysWith: { _, last in last })
        }
        subscribes.values.forEach { $0.continuation.resume(returning: requested[$0.filter] ?? .atLeastOnce) }
        unsubscribes.values.forEach { $0.resume() }
        let error: MQTTError? = rc == 0 ? nil : .mosquitto(.connectionLost, rc: rc, context: "connection to \(endpoint)")
        if let error { logger.warning("MQTT connection lost", metadata: ["error": "\(error)"]) }
        publish(event: .disconnected(error))
    }

    fileprivate func handlePublishAcknowledged(mid: Int32, reasonCode: Int32) {
        guard let continuation = pending.withLock({ $0.publishes.removeValue(forKey: mid) }) else { return }
        // PUBACK reason codes below 0x80 are successes (0x10: no matching subscribers).
        if reasonCode >= 0x80 {
            continuation.resume(throwing: MQTTError.reason(.publishFailed, reasonCode: reasonCode, context: "PUBACK"))
        } else {
            continuation.resume()
        }
    }

    fileprivate func handleSubscribed(mid: Int32, granted: [Int32]) {
        let waiter = pending.withLock { $0.subscribes.removeValue(forKey: mid) }
        let code = granted.first ?? 0x80
        guard let waiter else {
            if code >= 0x80 {
                logger.error("MQTT broker refused a resubscription",
                             metadata: ["reason": "\(String(cString: mosquitto_reason_string(code)))"])
            }
            return
        }
        if code >= 0x80 {
            waiter.continuation.resume(throwing: MQTTError.reason(.subscriptionRefused, reasonCode: code,
                                                                  context: "subscribe to \"\(waiter.filter)\""))
        } else {
            waiter.continuation.resume(returning: MQTTQoS(rawValue: code) ?? .atLeastOnce)
        }
    }

    fileprivate func handleUnsubscribed(mid: Int32) {
        pending.withLock { $0.unsubscribes.removeValue(forKey: mid) }?.resume()
    }

    /// Everything from the C message is copied here: libmosquitto frees it when the callback returns.
    fileprivate func handleMessage(_ raw: UnsafePointer<mosquitto_message>, properties: OpaquePointer?) {
        let payload: [UInt8] = raw.pointee.payload.map {
            Array(UnsafeRawBufferPointer(start: $0, count: Int(raw.pointee.payloadlen)))
        } ?? []
        var message = MQTTMessage(topic: raw.pointee.topic.map { String(cString: $0) } ?? "", payload: payload,
                                  qos: raw.pointee.qos == 0 ? .atMostOnce : .atLeastOnce, retain: raw.pointee.retain)
        if properties != nil { MosquittoProperties.read(properties, into: &message) }

        if routeCount.load(ordering: .acquiring) > 0 {
            let route = state.withLock { state in
                state.routes.values.first { route in
                    var matches = false
                    return mosquitto_topic_matches_sub(route.matchFilter, message.topic, &matches) == MOSQ_ERR_SUCCESS.rawValue && matches
                }
            }
            if let route {
                route.handler(message)
                return
            }
        }
        switch delivery {
        case .stream(let buffer):
            if buffer.append(message) { buffer.handOver() }
        case .durable(let handler):
            // The PUBACK for this message is queued but only this thread writes to the socket, and only
            // after we return: a message counts as delivered once `handler` has made it durable.
            // A handler failed earlier on this connection: the socket is cut, and nothing more is handed
            // out until reconnect, so the broker redelivers everything it did not get a PUBACK for.
            guard !rejectingDeliveries.load(ordering: .acquiring) else { return }
            do {
                try handler(message)
            } catch {
                logger.error("MQTT durable handler failed; dropping the connection so the broker redelivers",
                             metadata: ["topic": "\(message.topic)", "error": "\(error)"])
                rejectingDeliveries.store(true, ordering: .releasing)
                handle.shutdownSocket()
            }
        }
    }
}

// MARK: C trampolines: capture nothing, recover the connection from the user data pointer.

private func connection(_ userData: UnsafeMutableRawPointer?) -> MosquittoConnection? {
    userData.map { Unmanaged<MosquittoConnection>.fromOpaque($0).takeUnretainedValue() }
}

private func onConnect(_ mosq: OpaquePointer?, _ userData: UnsafeMutableRawPointer?, _ rc: Int32, _ flags: Int32,
                       _ properties: OpaquePointer?) {
    connection(userData)?.handleConnect(reasonCode: rc, flags: flags)
}

private func onDisconnect(_ mosq: OpaquePointer?, _ userData: UnsafeMutableRawPointer?, _ rc: Int32,
                          _ properties: OpaquePointer?) {
    connection(userData)?.handleDisconnect(rc: rc)
}

private func onPublish(_ mosq: OpaquePointer?, _ userData: UnsafeMutableRawPointer?, _ mid: Int32, _ reasonCode: Int32,
                       _ properties: OpaquePointer?) {
    connection(userData)?.handlePublishAcknowledged(mid: mid, reasonCode: reasonCode)
}

private func onMessage(_ mosq: OpaquePointer?, _ userData: UnsafeMutableRawPointer?,
                       _ message: UnsafePointer<mosquitto_message>?, _ properties: OpaquePointer?) {
    guard let message else { return }
    connection(userData)?.handleMessage(message, properties: properties)
}

private func onSubscribe(_ mosq: OpaquePointer?, _ userData: UnsafeMutableRawPointer?, _ mid: Int32, _ count: Int32,
                         _ granted: UnsafePointer<Int32>?, _ properties: OpaquePointer?) {
    let codes = granted.map { Array(UnsafeBufferPointer(start: $0, count: Int(count))) } ?? []
    connection(userData)?.handleSubscribed(mid: mid, granted: codes)
}

private func onUnsubscribe(_ mosq: OpaquePointer?, _ userData: UnsafeMutableRawPointer?, _ mid: Int32,
                           _ properties: OpaquePointer?) {
    connection(userData)?.handleUnsubscribed(mid: mid)
}
