import Foundation
import Logging
import MQTT
import Metrics
import ServiceLifecycle

/// Publishes the outbox: every work-order event committed with its change is sent as QoS 1 and deleted only
/// after the broker's PUBACK, in commit order. While the broker is unreachable the events wait in the store,
/// across restarts; a crash between PUBACK and delete publishes one again with the same CloudEvent id, which
/// consumers deduplicate.
///
/// It drains when told (`wake()`, after a commit), when the client (re)connects, at start, and every
/// `retryInterval` in case a wake-up was missed.
public final class OutboxRelay: Service {
    let store: APIStore
    let client: MQTTClient
    let logger: Logger
    let retryInterval: Duration
    let batchSize: Int
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation
    private let publishedCounter = Counter(label: "shopfloor_api_outbox_published_total")

    public init(store: APIStore, client: MQTTClient, logger: Logger, retryInterval: Duration = .seconds(1),
                batchSize: Int = 100) {
        self.store = store
        self.client = client
        self.logger = logger
        self.retryInterval = retryInterval
        self.batchSize = batchSize
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a drain soon (wake-ups while one runs collapse into one more pass).
    public func wake() { wakeup.yield() }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [wakeup, retryInterval] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: retryInterval)
                    wakeup.yield()
                }
            }
            group.addTask { [client, wakeup] in
                for await event in client.connectionEvents() {
                    if case .connected = event { wakeup.yield() }
                }
            }
            group.addTask { [client, logger] in
                // A publish in flight when the broker stops answering would hold the shutdown forever: after
                // 2 s the client is disconnected, which fails the publish (the entry stays in the outbox).
                do {
                    try await gracefulShutdown()
                    try await Task.sleep(for: .seconds(2))
                } catch { return }
                logger.warning("an outbox publish is not acknowledged at shutdown; disconnecting (kept for the next start)")
                await client.disconnect()
            }
            wakeup.yield()
            for await _ in wakeups.cancelOnGracefulShutdown() {
                await drain()
            }
            group.cancelAll()
        }
    }

    /// Publishes and deletes what is waiting, oldest first, until the outbox is empty or something fails
    /// (the next wake-up retries). Nothing is sent while disconnected: libmosquitto would hold the message in
    /// memory only, and a shutdown meanwhile would wait for the broker.
    func drain() async {
        while !Task.isShuttingDownGracefully && client.isConnected {
            let batch: [OutboxMessage]
            do {
                batch = try await store.pendingOutbox(limit: batchSize)
            } catch {
                logger.warning("could not read the outbox", metadata: ["error": "\(error)"])
                return
            }
            guard !batch.isEmpty else { return }
            for message in batch {
                guard client.isConnected else { return }
                do {
                    try await client.publish(MQTTMessage(topic: message.topic, payload: Array(message.payload.utf8),
                                                         qos: .atLeastOnce))
                } catch {
                    logger.warning("work order event not yet published; kept in the outbox",
                                   metadata: ["topic": "\(message.topic)", "id": "\(message.id)", "error": "\(error)"])
                    return
                }
                do {
                    try await store.deleteOutbox(id: message.id)
                } catch {
                    // Published but still in the outbox: sent again later, deduplicated by id downstream.
                    logger.warning("could not delete a published outbox entry", metadata: ["id": "\(message.id)", "error": "\(error)"])
                    return
                }
                publishedCounter.increment()
            }
        }
    }
}
