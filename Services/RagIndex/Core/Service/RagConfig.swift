import Foundation
import ServiceRuntime

/// The raw values of rag-index's own flags; nil when not given.
public struct RagFlags: Sendable {
    public var index: String?
    public var docs: String?
    public var modelDir: String?
    public var llmURL: String?
    public var llmModel: String?
    public var eventsKeep: String?

    public init(index: String? = nil, docs: String? = nil, modelDir: String? = nil, llmURL: String? = nil,
                llmModel: String? = nil, eventsKeep: String? = nil) {
        self.index = index
        self.docs = docs
        self.modelDir = modelDir
        self.llmURL = llmURL
        self.llmModel = llmModel
        self.eventsKeep = eventsKeep
    }
}

/// rag-index's own settings, resolved from flags, then environment, then defaults, and validated.
///
/// Keys (flag / environment variable, type, default):
/// - `--index` / `RAG_INDEX`, path of the SQLite index, `rag-index.sqlite`
/// - `--docs` / `RAG_DOCS`, folder indexed (incrementally) at start-up, none
/// - `--model-dir` / `RAG_MODEL_DIR`, folder with model.safetensors and vocab.txt, `.models/all-MiniLM-L6-v2`
/// - `--llm-url` / `LLM_URL`, base URL of an OpenAI-compatible endpoint, none (extractive answers)
/// - `--llm-model` / `LLM_MODEL`, model name sent to it, required with `--llm-url`
/// - `LLM_API_KEY` (environment only, never logged), bearer token for the endpoint, none
/// - `--events-keep` / `RAG_EVENTS_KEEP`, recent plant events kept, 0…1000000, `1000`
public struct RagConfig: Sendable, CustomStringConvertible {
    public static let indexKey = ConfigKey(flag: "index", environment: "RAG_INDEX")
    public static let docsKey = ConfigKey(flag: "docs", environment: "RAG_DOCS")
    public static let modelDirKey = ConfigKey(flag: "model-dir", environment: "RAG_MODEL_DIR")
    public static let llmURLKey = ConfigKey(flag: "llm-url", environment: "LLM_URL")
    public static let llmModelKey = ConfigKey(flag: "llm-model", environment: "LLM_MODEL")
    public static let eventsKeepKey = ConfigKey(flag: "events-keep", environment: "RAG_EVENTS_KEEP")

    public var indexPath: String
    public var docs: String?
    public var modelDirectory: String
    public var chat: ChatEndpoint?
    public var eventsKeep: Int

    /// Resolves and validates; the first bad value throws a `ConfigError` naming its key.
    public init(flags: RagFlags, environment: [String: String]) throws(ConfigError) {
        indexPath = Self.indexKey.raw(flag: flags.index, in: environment) ?? "rag-index.sqlite"
        docs = Self.docsKey.raw(flag: flags.docs, in: environment)
        modelDirectory = Self.modelDirKey.raw(flag: flags.modelDir, in: environment) ?? ".models/all-MiniLM-L6-v2"
        eventsKeep = try Self.eventsKeepKey.integer(flag: flags.eventsKeep, in: environment, default: 1000,
                                                    range: 0...1_000_000)
        if let raw = Self.llmURLKey.raw(flag: flags.llmURL, in: environment) {
            guard let url = URL(string: raw), let scheme = url.scheme, ["http", "https"].contains(scheme),
                  url.host != nil else {
                throw ConfigError(key: Self.llmURLKey.description, value: raw,
                                  expected: "an http:// or https:// URL such as http://127.0.0.1:8080")
            }
            guard let model = Self.llmModelKey.raw(flag: flags.llmModel, in: environment) else {
                throw ConfigError(key: Self.llmModelKey.description, value: "",
                                  expected: "a model name whenever --llm-url is set")
            }
            let key = environment["LLM_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            chat = ChatEndpoint(url: url, model: model, apiKey: key)
        }
    }

    /// Safe to log: the API key is shown as `***`.
    public var description: String {
        "index=\(indexPath) docs=\(docs ?? "none") model=\(modelDirectory) llm=\(chat.map { "\($0)" } ?? "none") "
            + "events-keep=\(eventsKeep)"
    }
}
