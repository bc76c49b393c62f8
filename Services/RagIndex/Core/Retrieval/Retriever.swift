import CBLAS
import Foundation
import Synchronization

/// One retrieved passage: a document chunk or a recent plant event.
public struct RetrievedPassage: Sendable, Hashable {
    public enum Origin: Sendable, Hashable {
        case document(StoredChunk)
        case event(StoredEvent)
    }
    public var origin: Origin
    /// Reciprocal-rank-fusion score (higher is better).
    public var score: Double

    public var text: String {
        switch origin {
        case .document(let chunk): chunk.text
        case .event(let event): event.text
        }
    }
}

/// Hybrid retrieval: BM25 over the chunks (SQLite FTS5) and exact cosine over their all-MiniLM-L6-v2
/// vectors, fused by reciprocal rank (k = 60). Questions about the live plant also search recent events.
public final class Retriever: Sendable {
    /// Reciprocal rank fusion's constant (Cormack et al. 2009).
    public static let fusionK = 60.0
    /// How deep each ranking goes before fusion.
    static let candidates = 50

    public let store: IndexStore
    public let embedder: SentenceEmbedder
    /// The chunk vectors in memory, reloaded when the index changes (`invalidate`).
    private let cache = Mutex<(ids: [Int64], matrix: [Float])?>(nil)

    public init(store: IndexStore, embedder: SentenceEmbedder) {
        self.store = store
        self.embedder = embedder
    }

    /// Drops the in-memory vectors; the next search reads them again.
    public func invalidate() { cache.withLock { $0 = nil } }

    /// The `limit` best passages for `question`; recent events first when the question is about the plant now.
    public func search(_ question: String, limit: Int) async throws -> [RetrievedPassage] {
        let queryVector = await embedOffPool([question])[0]
        let terms = Self.terms(question)
        let vectors = try await loadedVectors()
        let dense = Self.rank(matrix: vectors.matrix, ids: vectors.ids, query: queryVector, top: Self.candidates)
        let lexical = try await store.lexicalSearch(terms, limit: Self.candidates)
        let fused = Self.fuse([dense, lexical]).prefix(limit)
        let chunks = try await store.chunks(fused.map(\.id))
        var passages = fused.compactMap { hit in chunks[hit.id].map { RetrievedPassage(origin: .document($0), score: hit.score) } }

        let events = try await store.events()
        if !events.isEmpty && Self.asksAboutLivePlant(question, subjects: events.map(\.event.subject)) {
            let eventMatrix = events.flatMap(\.vector)
            let eventDense = Self.rank(matrix: eventMatrix, ids: events.map(\.seq), query: queryVector, top: 20)
            let eventLexical = try await store.lexicalEventSearch(terms, limit: 20)
            // Newest first is a ranking too: "why did it stop" usually means the latest stop.
            let recency = events.prefix(20).map(\.seq)
            let bySeq = Dictionary(uniqueKeysWithValues: events.map { ($0.seq, $0.event) })
            let eventHits = Self.fuse([eventDense, eventLexical, recency]).prefix(3)
            passages = eventHits.compactMap { hit in bySeq[hit.id].map { RetrievedPassage(origin: .event($0), score: hit.score) } }
                + passages.prefix(max(0, limit - min(3, eventHits.count)))
        }
        return passages
    }

    /// Reciprocal rank fusion of several rankings of ids (best first): Σ 1 / (k + rank).
    static func fuse(_ rankings: [[Int64]]) -> [(id: Int64, score: Double)] {
        var scores: [Int64: Double] = [:]
        for ranking in rankings {
            for (rank, id) in ranking.enumerated() { scores[id, default: 0] += 1 / (fusionK + Double(rank + 1)) }
        }
        return scores.map { (id: $0.key, score: $0.value) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
    }

    /// Ids of the `top` rows of `matrix` (unit vectors, row-major) closest to `query` by cosine.
    static func rank(matrix: [Float], ids: [Int64], query: [Float], top: Int) -> [Int64] {
        let scores = cosines(matrix: matrix, rows: ids.count, query: query)
        return scores.indices.sorted { scores[$0] > scores[$1] }.prefix(top).map { ids[$0] }
    }

    /// `matrix · query` through BLAS: with unit vectors, the cosine of every row.
    static func cosines(matrix: [Float], rows: Int, query: [Float]) -> [Float] {
        let dimension = query.count
        guard rows > 0, matrix.count == rows * dimension else { return [] }
        var scores = [Float](repeating: 0, count: rows)
        matrix.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { q in
                scores.withUnsafeMutableBufferPointer { s in
                    guard let mBase = m.baseAddress, let qBase = q.baseAddress, let sBase = s.baseAddress else { return }
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(rows), blasint(dimension), 1, mBase,
                                blasint(dimension), qBase, 1, 0, sBase, 1)
                }
            }
        }
        return scores
    }

    /// Words common enough to match everything; leaving them out of the BM25 query keeps it about the topic.
    static let stopWords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "do", "does", "did", "what", "which", "who",
        "whom", "how", "why", "when", "where", "of", "on", "in", "at", "to", "for", "from", "by", "with", "and",
        "or", "i", "we", "you", "it", "its", "this", "that", "these", "those", "my", "our", "can", "should",
        "must", "will", "would", "there", "if", "me", "about", "into", "than", "then", "so", "as", "not", "no",
        "has", "have", "had", "get", "mean", "means",
    ]

    /// The question's words for BM25: lower-cased letters and digits, stop words removed.
    static func terms(_ question: String) -> [String] {
        let words = question.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        let kept = words.filter { !stopWords.contains($0) }
        return kept.isEmpty ? words : kept
    }

    /// Words that make a question about what is happening, or happened, in the plant.
    static let liveWords: Set<String> = [
        "now", "today", "yesterday", "tonight", "night", "last", "recent", "recently", "currently", "current",
        "happened", "happening", "stopped", "stop", "down", "alarm", "alarms", "fault", "faulted", "latest",
        "status", "running", "idle", "why",
    ]

    /// True when the question uses time words of the live plant or names an asset that has events.
    static func asksAboutLivePlant(_ question: String, subjects: [String]) -> Bool {
        let words = question.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        if words.contains(where: liveWords.contains) { return true }
        let joined = words.joined()
        return subjects.contains { subject in
            let asset = subject.split(separator: "/").last.map { $0.lowercased().filter { $0.isLetter || $0.isNumber } } ?? ""
            return asset.count >= 3 && joined.contains(asset)
        }
    }

    private func loadedVectors() async throws -> (ids: [Int64], matrix: [Float]) {
        if let cached = cache.withLock({ $0 }) { return cached }
        let loaded = try await store.allVectors()
        cache.withLock { $0 = loaded }
        return loaded
    }

    /// Embeds on a Dispatch queue: the forward pass must not hold a cooperative thread.
    func embedOffPool(_ texts: [String]) async -> [[Float]] {
        let embedder = self.embedder
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: embedder.embed(texts)) }
        }
    }
}
