import Foundation
import RagCore

/// rag-index benchmark (bench/rag/rag-bench.sh): indexing throughput with real embeddings over a folder,
/// then query latency over a synthetic index of N chunks.
///
/// Usage: rag-bench MODEL_DIR DOCS_DIR WORK_DIR [CHUNKS=10000] [QUERIES=300]
///
/// The synthetic chunks carry real text (FTS5 BM25 works on it as on documents) but random unit vectors:
/// embedding 10,000 chunks would take the better part of an hour on two shared cores, and the cost of exact
/// cosine search does not depend on the vectors' values.
@main
struct RagBench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 4 else {
            FileHandle.standardError.write(Data("usage: rag-bench MODEL_DIR DOCS_DIR WORK_DIR [CHUNKS] [QUERIES]\n".utf8))
            exit(2)
        }
        let chunkCount = arguments.count > 4 ? Int(arguments[4]) ?? 10_000 : 10_000
        let queryCount = arguments.count > 5 ? Int(arguments[5]) ?? 300 : 300
        let work = arguments[3]
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

        var clock = ContinuousClock.now
        let embedder = try SentenceEmbedder(modelDirectory: arguments[1])
        print(String(format: "model load: %.2f s", seconds(since: clock)))

        // 1. Indexing with real embeddings.
        let docsStore = try await IndexStore.open(path: work + "/docs.sqlite")
        let report = try await DocumentIndexer(store: docsStore, embedder: embedder).index(folder: arguments[2])
        print(String(format: "indexing %@: %d files, %d chunks in %.1f s = %.1f chunks/s", arguments[2],
                     report.added, report.chunks, report.seconds, Double(report.chunks) / report.seconds))
        clock = .now
        let again = try await DocumentIndexer(store: docsStore, embedder: embedder).index(folder: arguments[2])
        print(String(format: "re-index unchanged: %d unchanged in %.3f s", again.unchanged, seconds(since: clock)))
        await docsStore.close()

        // 2. A synthetic index of `chunkCount` chunks.
        let store = try await IndexStore.open(path: work + "/synthetic.sqlite")
        var generator = SplitMix(seed: 42)
        let words = vocabulary
        let perDocument = 10
        clock = .now
        for document in 0..<(chunkCount / perDocument) {
            var chunks: [DocumentChunk] = []
            var vectors: [[Float]] = []
            for section in 0..<perDocument {
                let text = (0..<40).map { _ in words[Int(generator.next() % UInt64(words.count))] }.joined(separator: " ") + "."
                chunks.append(DocumentChunk(heading: "Machine \(document) > Section \(section)",
                                            firstLine: section * 10 + 1, lastLine: section * 10 + 9, text: text))
                var vector = (0..<SentenceEmbedder.dimension).map { _ in Float(generator.next() % 2001) / 1000 - 1 }
                let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
                vector = vector.map { $0 / norm }
                vectors.append(vector)
            }
            try await store.replace(document: "synthetic/\(document).md", hash: "\(document)", chunks: chunks, vectors: vectors)
        }
        let counts = try await store.counts()
        print(String(format: "synthetic index: %d chunks written in %.1f s", counts.chunks, seconds(since: clock)))

        // 3. Query latency: retrieval alone, and the whole extractive answer.
        let retriever = Retriever(store: store, embedder: embedder)
        let answerer = Answerer(retriever: retriever)
        _ = try await answerer.answer(AskRequest(question: "warm-up", limit: 5))
        var retrieval: [Double] = []
        var answers: [Double] = []
        for index in 0..<queryCount {
            let question = questions[index % questions.count]
            clock = .now
            _ = try await retriever.search(question, limit: 5)
            retrieval.append(seconds(since: clock))
            clock = .now
            _ = try await answerer.answer(AskRequest(question: question, limit: 5))
            answers.append(seconds(since: clock))
        }
        print(String(format: "query over %d chunks, %d queries: retrieval p50 %.1f ms p99 %.1f ms; "
                     + "extractive answer p50 %.1f ms p99 %.1f ms", counts.chunks, queryCount,
                     percentile(retrieval, 0.5) * 1000, percentile(retrieval, 0.99) * 1000,
                     percentile(answers, 0.5) * 1000, percentile(answers, 0.99) * 1000))
        await store.close()
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    static let questions = [
        "What does fault 110 on a press mean?", "The milling machine's cutter snapped during machining",
        "How often must the filler be cleaned in place?", "The shrink wrap tore on the packing machine",
        "The air compressor is overheating", "Which register holds the current fault code?",
        "why did press 3 stop last night?", "How do I keep the time series database from growing forever?",
    ]

    static let vocabulary = """
        press cylinder hydraulic pressure oil filter pump die ram stroke light curtain spindle bearing coolant
        tool axis following error nozzle bottle tank product film tension carton sealing jaw compressor inlet
        motor overload temperature humidity vibration wear maintenance interval replace check clean lubricate
        operator restart stop fault code alarm state running idle down setup starved blocked shift hours
        """.split(whereSeparator: \.isWhitespace).map(String.init)
}

/// A small deterministic generator so every run builds the same synthetic index.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
