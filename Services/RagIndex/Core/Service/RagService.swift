import EventSchema
import Foundation
import Logging
import Metrics
import MQTT
import ServiceLifecycle
import ServiceRuntime

/// The service mode of rag-index: indexes `--docs` at start-up, answers `ask` requests over MQTT 5
/// request/response on `<prefix>/_svc/rag-index/ask`, and keeps recent plant events for live questions.
public struct RagService: Service {
    let config: RagConfig
    let runtime: RuntimeConfig
    let health: HealthChecks
    let logger: Logger

    public init(config: RagConfig, runtime: RuntimeConfig, health: HealthChecks, logger: Logger) {
        self.config = config
        self.runtime = runtime
        self.health = health
        self.logger = logger
    }

    public func run() async throws {
        health.set("index", healthy: false, detail: "loading model")
        let embedder = try SentenceEmbedder(modelDirectory: config.modelDirectory)
        let store = try await IndexStore.open(path: config.indexPath)
        let metrics = RagMetrics()
        if let docs = config.docs {
            health.set("index", healthy: false, detail: "indexing \(docs)")
            // SIGTERM during a long first index stops it between two files instead of waiting for the end.
            let report: IndexingReport
            do {
                report = try await cancelWhenGracefulShutdown {
                    try await DocumentIndexer(store: store, embedder: embedder).index(folder: docs)
                }
            } catch is CancellationError {
                logger.notice("indexing stopped by shutdown", metadata: ["folder": "\(docs)"])
                await store.close()
                return
            }
            logger.info("indexed", metadata: ["folder": "\(docs)", "added": "\(report.added)", "updated": "\(report.updated)",
                                              "removed": "\(report.removed)", "unchanged": "\(report.unchanged)",
                                              "chunks": "\(report.chunks)"])
        }
        let counts = try await store.counts()
        metrics.indexed(chunks: counts.chunks, documents: counts.documents)
        health.set("index", healthy: true, detail: "\(counts.documents) documents, \(counts.chunks) chunks")
        let retriever = Retriever(store: store, embedder: embedder)
        let answerer = Answerer(retriever: retriever, chat: config.chat, logger: logger)

        let client = try MQTTClient(configuration: MQTTConfiguration(
            host: runtime.broker.host, port: runtime.broker.port, clientID: "rag-index-\(runtime.instance)",
            username: runtime.broker.username, password: runtime.broker.password,
            tls: runtime.broker.usesTLS ? .init() : nil), logger: logger)
        let askTopic = try UNSTopic.service("rag-index", verb: "ask", prefix: runtime.unsPrefix)
        if config.eventsKeep > 0 {
            for filter in try UNSTopic.eventFilters(prefix: runtime.unsPrefix) {
                _ = try await client.subscribe(to: filter, qos: .atLeastOnce)
            }
        }
        client.start()
        defer { health.set("index", healthy: false, detail: "stopped") }
        logger.info("rag-index serving", metadata: ["topic": "\(askTopic)", "config": "\(config)"])
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Shared, so several instances split the questions between them.
                    let responder = MQTTResponder(client: client, requestFilter: "$share/rag-index/\(askTopic)")
                    try await responder.run { request in
                        await Self.reply(to: request.payload, answerer: answerer, metrics: metrics, logger: logger)
                    }
                }
                group.addTask {
                    for await message in client.messages.cancelOnGracefulShutdown() {
                        guard let event = PlantEventText.event(from: message.payload, topic: message.topic) else { continue }
                        do {
                            let vector = await retriever.embedOffPool([event.text])[0]
                            try await store.record(event: event, vector: vector, keep: config.eventsKeep)
                            metrics.eventRecorded()
                        } catch {
                            metrics.failed()
                            logger.warning("event not recorded", metadata: ["error": "\(error)", "id": "\(event.id)"])
                        }
                    }
                }
                // Until SIGTERM, or until the responder fails: whichever child ends first ends the others.
                group.addTask { try await gracefulShutdown() }
                try await group.next()
                group.cancelAll()
            }
        } catch is CancellationError {}
        await client.disconnect()
        await store.close()
    }

    /// The reply to one request: the answer, or `{"error": {"code", "message"}}` for a bad request or failure.
    public static func reply(to payload: [UInt8], answerer: Answerer, metrics: RagMetrics? = nil,
                             logger: Logger) async -> [UInt8] {
        let started = ContinuousClock.now
        do {
            let request = try AskRequest(json: payload)
            let answer = try await answerer.answer(request)
            metrics?.answered(seconds: (ContinuousClock.now - started).seconds)
            return Array(try AnswerJSON.encode(answer))
        } catch let error as RagError {
            metrics?.failed()
            if error.code != .badRequest { logger.warning("ask failed", metadata: ["error": "\(error)"]) }
            return AnswerJSON.error(code: error.code.rawValue, message: error.message)
        } catch {
            metrics?.failed()
            logger.warning("ask failed", metadata: ["error": "\(error)"])
            return AnswerJSON.error(code: "internal", message: "\(error)")
        }
    }
}

/// The JSON written for answers and errors, with sorted keys so replies are stable.
public enum AnswerJSON {
    public static func encode(_ answer: Answer) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(answer)
    }

    public static func error(code: String, message: String) -> [UInt8] {
        struct Body: Encodable {
            struct Detail: Encodable { var code: String; var message: String }
            var error: Detail
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(Body(error: .init(code: code, message: message))))
            ?? Data(#"{"error":{"code":"internal","message":"unencodable error"}}"#.utf8))
    }
}

/// rag-index's metrics on `/metrics`.
public struct RagMetrics: Sendable {
    private let queries = Counter(label: "rag_queries_total")
    private let errors = Counter(label: "rag_errors_total")
    private let events = Counter(label: "rag_events_recorded_total")
    private let latency = Timer(label: "rag_query_duration_seconds")
    private let chunks = Gauge(label: "rag_index_chunks")
    private let documents = Gauge(label: "rag_index_documents")

    public init() {}

    func answered(seconds: Double) {
        queries.increment()
        latency.recordNanoseconds(Int64(seconds * 1e9))
    }
    func failed() { errors.increment() }
    func eventRecorded() { events.increment() }
    func indexed(chunks count: Int, documents documentCount: Int) {
        chunks.record(count)
        documents.record(documentCount)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
