import Synchronization

/// The incoming messages of a non-durable `MQTTClient`, in arrival order (`client.messages`).
///
/// Unlike an `AsyncStream`, which wakes a waiting consumer for every element, the network thread wakes a
/// waiting consumer only when the socket has nothing more to read within 200 µs (so a lone message is not
/// held back) or after `MessageBuffer.batchLimit` messages; the consumer then takes the rest without
/// suspending. Under load that is one thread wake-up per burst instead of per message. Iterating from an
/// actor runs on that actor (no executor hop). Meant for one consumer at a time; messages not yet taken
/// stay in the client when a loop is left, and the next loop continues with them. The buffer is
/// unbounded: a slow consumer costs memory, never messages. Iteration ends when the task is cancelled.
public struct MQTTMessageStream: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage
    public typealias Failure = Never
    let buffer: MessageBuffer

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer)
    }

    /// Takes the next message from the client's buffer.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: MessageBuffer

        public mutating func next() async -> MQTTMessage? {
            await buffer.next(isolation: nil)
        }

        /// Runs on the caller's actor: a consumer loop on the main actor would otherwise pay two thread
        /// switches per message.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> MQTTMessage? {
            await buffer.next(isolation: actor)
        }
    }
}

/// Messages between the network thread and the consumer of `MQTTMessageStream`.
final class MessageBuffer: Sendable {
    /// Wake a waiting consumer at the latest after this many messages, even if more are arriving.
    static let batchLimit = 256

    private struct State {
        /// Messages from `head` on are not taken yet; the array is reset when it has been emptied.
        var messages: [MQTTMessage] = []
        var head = 0
        var waiter: CheckedContinuation<MQTTMessage?, Never>?
        var finished = false

        var count: Int { messages.count - head }

        mutating func pop() -> MQTTMessage? {
            guard head < messages.count else { return nil }
            let message = messages[head]
            head += 1
            if head == messages.count {
                messages.removeAll(keepingCapacity: true)
                head = 0
            }
            return message
        }
    }

    private let state = Mutex(State())

    /// Network thread: queue a message. True when a consumer waits and the batch is full: call `handOver`.
    func append(_ message: MQTTMessage) -> Bool {
        state.withLock { state in
            state.messages.append(message)
            return state.waiter != nil && state.count >= MessageBuffer.batchLimit
        }
    }

    /// Network thread, after each loop iteration: wake a waiting consumer unless more is arriving right now
    /// (`moreIsComing` is asked only when someone waits and the batch is neither empty nor full).
    func flush(moreIsComing: () -> Bool) {
        let (waiting, count) = state.withLock { ($0.waiter != nil, $0.count) }
        guard waiting, count > 0 else { return }
        if count < MessageBuffer.batchLimit && moreIsComing() { return }
        handOver()
    }

    /// Wakes the waiting consumer with the oldest message, if both exist.
    func handOver() {
        let (waiter, message) = state.withLock { state -> (CheckedContinuation<MQTTMessage?, Never>?, MQTTMessage?) in
            guard let waiter = state.waiter, let message = state.pop() else { return (nil, nil) }
            state.waiter = nil
            return (waiter, message)
        }
        if let waiter, let message { waiter.resume(returning: message) }
    }

    /// Ends iteration (a durable client's stream is finished from the start).
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Consumer: the oldest message, waiting for one if necessary; nil when finished or cancelled.
    func next(isolation actor: isolated (any Actor)?) async -> MQTTMessage? {
        if let message = state.withLock({ $0.pop() }) { return message }
        return await withTaskCancellationHandler {
            await withCheckedContinuation(isolation: actor) { (continuation: CheckedContinuation<MQTTMessage?, Never>) in
                let ready = state.withLock { state -> MQTTMessage?? in
                    if let message = state.pop() { return .some(message) }
                    // A second concurrent consumer, or a finished/cancelled one, gets nil.
                    if state.finished || Task.isCancelled || state.waiter != nil { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
