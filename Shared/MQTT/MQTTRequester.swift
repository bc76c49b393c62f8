import Foundation
import Synchronization

/// Sends MQTT 5 requests (Response Topic + Correlation Data) and waits for the matching response.
///
/// One requester owns one response topic, e.g. `uns/v1/_svc/_reply/<client id>`; it subscribes to it on
/// `init` and routes messages there to the waiting `request` by correlation data, so they never appear in
/// `MQTTClient.messages`.
public final class MQTTRequester: Sendable {
    /// Where responders publish their answers.
    public let responseTopic: String
    private let client: MQTTClient
    private let waiters = ResponseWaiters()
    private let routeID: Int

    /// A responder's error travels in this user property of the response; `request` turns it into
    /// `MQTTError.Code.remoteFailure`.
    public static let errorProperty = "error"

    /// Subscribes to `responseTopic` (which should be unique to this requester) on `client`.
    public init(client: MQTTClient, responseTopic: String) async throws {
        self.client = client
        self.responseTopic = responseTopic
        routeID = client.connection.addRoute(filter: responseTopic) { [waiters] message in
            waiters.deliver(message)
        }
        do {
            try await client.subscribe(to: responseTopic, qos: .atLeastOnce)
        } catch {
            client.connection.removeRoute(routeID)
            throw error
        }
    }

    /// Publishes `request` (its response topic and correlation data are set here) and returns the response,
    /// or throws `.timeout` after `timeout`, or `.remoteFailure` when the responder reported an error.
    public func request(_ request: MQTTMessage, timeout: Duration = .seconds(5)) async throws -> MQTTMessage {
        let correlation = Array(withUnsafeBytes(of: UUID().uuid) { Array($0) })
        waiters.expect(correlation)
        defer { waiters.forget(correlation) }
        var outgoing = request
        outgoing.responseTopic = responseTopic
        outgoing.correlationData = correlation
        try await client.publish(outgoing)
        let response = try await withThrowingTaskGroup(of: MQTTMessage.self) { group in
            group.addTask { [waiters] in try await waiters.wait(for: correlation) }
            group.addTask { [topic = request.topic] in
                try await Task.sleep(for: timeout)
                throw MQTTError(code: .timeout, message: "no response within \(timeout)", context: "request on \"\(topic)\"")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
        if let failure = response.userProperty(MQTTRequester.errorProperty) {
            throw MQTTError(code: .remoteFailure, message: failure, context: "request on \"\(request.topic)\"")
        }
        return response
    }

    /// Publishes `payload` as a QoS 1 request on `topic`; see `request(_:timeout:)`.
    public func request(topic: String, payload: [UInt8], timeout: Duration = .seconds(5)) async throws -> MQTTMessage {
        try await request(MQTTMessage(topic: topic, payload: payload, qos: .atLeastOnce), timeout: timeout)
    }

    /// Unsubscribes from the response topic.
    public func close() async throws {
        client.connection.removeRoute(routeID)
        try await client.unsubscribe(from: responseTopic)
    }
}

/// Correlation data → the request waiting for it. A response may arrive before its waiter registers
/// (`expect` happens before the publish), so it is parked until `wait` collects it.
private final class ResponseWaiters: Sendable {
    private enum Slot {
        case expected
        case arrived(MQTTMessage)
        case waiting(CheckedContinuation<MQTTMessage, any Error>)
        case cancelled
    }

    private let slots = Mutex<[[UInt8]: Slot]>([:])

    func expect(_ id: [UInt8]) {
        slots.withLock { $0[id] = .expected }
    }

    func forget(_ id: [UInt8]) {
        _ = slots.withLock { $0.removeValue(forKey: id) }
    }

    /// Called on the network thread; responses nobody expects (late, duplicate, foreign) are dropped.
    func deliver(_ message: MQTTMessage) {
        guard let id = message.correlationData else { return }
        let continuation = slots.withLock { slots -> CheckedContinuation<MQTTMessage, any Error>? in
            switch slots[id] {
            case .expected:
                slots[id] = .arrived(message)
                return nil
            case .waiting(let continuation):
                slots[id] = .cancelled
                return continuation
            default:
                return nil
            }
        }
        continuation?.resume(returning: message)
    }

    func wait(for id: [UInt8]) async throws -> MQTTMessage {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = slots.withLock { slots -> Result<MQTTMessage, any Error>? in
                    switch slots[id] {
                    case .arrived(let message):
                        slots[id] = .cancelled
                        return .success(message)
                    case .expected:
                        slots[id] = .waiting(continuation)
                        return nil
                    default:
                        return .failure(CancellationError())
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let continuation = slots.withLock { slots -> CheckedContinuation<MQTTMessage, any Error>? in
                switch slots[id] {
                case .waiting(let continuation):
                    slots[id] = .cancelled
                    return continuation
                case .expected:
                    slots[id] = .cancelled
                    return nil
                default:
                    return nil
                }
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
