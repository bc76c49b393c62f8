import ArgumentParser
import Foundation
import Logging
import RagCore
import ServiceLifecycle
import ServiceRuntime

/// `rag-index`: Answers questions from the plant's documentation and recent events. Without a subcommand it
/// runs as a service (MQTT `ask`, status, /health, /metrics); `index` and `ask` work on an index file directly.
@main
struct RagIndexCommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag-index",
        abstract: "Answers questions from the plant's documentation and recent events.",
        version: ShopfloorVersion.current,
        subcommands: [IndexCommand.self, AskCommand.self])
    static let serviceName = "rag-index"
    static let defaultHTTPPort = 9104

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var rag: RagOptions

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        let rag = try RagConfig(flags: rag.flags, environment: ProcessInfo.processInfo.environment)
        return [RagService(config: rag, runtime: config, health: health, logger: logger)]
    }
}

/// The flags every rag-index mode shares.
struct RagOptions: ParsableArguments {
    @Option(name: .customLong("index"), help: "SQLite index file (RAG_INDEX; default rag-index.sqlite)")
    var index: String?
    @Option(name: .customLong("docs"), help: "folder to index at start-up (RAG_DOCS; default none)")
    var docs: String?
    @Option(name: .customLong("model-dir"),
            help: "folder with model.safetensors and vocab.txt (RAG_MODEL_DIR; default .models/all-MiniLM-L6-v2)")
    var modelDir: String?
    @Option(name: .customLong("llm-url"),
            help: "OpenAI-compatible endpoint for generated answers (LLM_URL; key in LLM_API_KEY; default none: extractive)")
    var llmURL: String?
    @Option(name: .customLong("llm-model"), help: "model name for --llm-url (LLM_MODEL)")
    var llmModel: String?
    @Option(name: .customLong("events-keep"), help: "recent plant events kept for live questions (RAG_EVENTS_KEEP; default 1000)")
    var eventsKeep: String?

    var flags: RagFlags {
        RagFlags(index: index, docs: docs, modelDir: modelDir, llmURL: llmURL, llmModel: llmModel, eventsKeep: eventsKeep)
    }

    func config() throws -> RagConfig {
        do {
            return try RagConfig(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// `rag-index index DIR --index PATH`: brings the index in line with a folder of Markdown and text files.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index", abstract: "Index the Markdown and text files under a folder (incrementally).")

    @Argument(help: "folder of .md / .txt files")
    var folder: String
    @OptionGroup var rag: RagOptions

    func run() async throws {
        let config = try rag.config()
        let embedder = try SentenceEmbedder(modelDirectory: config.modelDirectory)
        let store = try await IndexStore.open(path: config.indexPath)
        let bar = ProgressLine(terminal: isatty(STDERR_FILENO) == 1)
        let report = try await DocumentIndexer(store: store, embedder: embedder).index(folder: folder) { bar.show($0) }
        bar.finish()
        let counts = try await store.counts()
        await store.close()
        let rate = report.seconds > 0 ? Double(report.chunks) / report.seconds : 0
        print("indexed \(folder) into \(config.indexPath): \(report.added) added, \(report.updated) updated, "
              + "\(report.removed) removed, \(report.unchanged) unchanged; \(report.chunks) chunks embedded in "
              + String(format: "%.1f s (%.1f chunks/s); ", report.seconds, rate)
              + "index holds \(counts.documents) documents, \(counts.chunks) chunks")
    }
}

/// `rag-index ask "QUESTION" --index PATH [--json]`.
struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ask", abstract: "Answer a question from the index.")

    @Argument(help: "the question")
    var question: String
    @Option(name: .customLong("limit"), help: "number of sources, 1…20 (default 5)")
    var limit: Int = 5
    @Flag(name: .customLong("json"), help: #"print {"answer": …, "sources": [{"doc", "score", "heading", "lines"}]}"#)
    var json = false
    @OptionGroup var rag: RagOptions

    func run() async throws {
        let config = try rag.config()
        guard AskRequest.limits.contains(limit) else { throw ValidationError("--limit is \(limit); expected 1…20") }
        let embedder = try SentenceEmbedder(modelDirectory: config.modelDirectory)
        let store = try await IndexStore.open(path: config.indexPath, create: false)
        let answerer = Answerer(retriever: Retriever(store: store, embedder: embedder), chat: config.chat)
        let answer = try await answerer.answer(AskRequest(question: question, limit: limit))
        await store.close()
        if json {
            print(String(decoding: try AnswerJSON.encode(answer), as: UTF8.self))
            return
        }
        print(answer.answer)
        print()
        for (index, source) in answer.sources.enumerated() {
            let heading = source.heading.isEmpty ? "" : " — \(source.heading)"
            print("[\(index + 1)] \(source.doc)\(heading) (lines \(source.lines), score \(source.score))")
        }
    }
}

/// Indexing progress: a redrawn bar on a terminal, one plain line per file otherwise (logs, CI).
final class ProgressLine: Sendable {
    let terminal: Bool

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ progress: IndexingProgress) {
        if terminal {
            let width = 30
            let filled = progress.total > 0 ? width * progress.done / progress.total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let name = progress.document.count > 40 ? "…" + progress.document.suffix(39) : progress.document
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar) \(progress.done)/\(progress.total) \(name)".utf8))
        } else {
            FileHandle.standardError.write(Data(
                "indexed \(progress.done)/\(progress.total) \(progress.document) (\(progress.chunks) chunks)\n".utf8))
        }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
