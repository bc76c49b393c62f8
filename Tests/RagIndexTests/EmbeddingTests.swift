import Foundation
import RagCore
import Testing

/// Where the model is: RAG_MODEL_DIR, else `.models/all-MiniLM-L6-v2` at the repository root.
enum ModelLocation {
    static var directory: String {
        if let path = ProcessInfo.processInfo.environment["RAG_MODEL_DIR"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".models/all-MiniLM-L6-v2").path
    }

    /// The embedder, loaded once for every test; a missing model fails with the command that fetches it.
    static let embedder: Result<SentenceEmbedder, RagError> = Result { () throws(RagError) in
        try SentenceEmbedder(modelDirectory: directory)
    }

    static func load() throws -> SentenceEmbedder {
        switch embedder {
        case .success(let embedder): return embedder
        case .failure(let error):
            Issue.record("the model is absent: run scripts/fetch-model.sh (or set RAG_MODEL_DIR): \(error)")
            throw error
        }
    }
}

/// The reference ids and vectors written once by Fixtures/make_fixtures.py.
struct EmbeddingFixtures: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int32]
        let vector: [Float]
    }
    let cases: [Case]

    static func load() throws -> EmbeddingFixtures {
        let url = try #require(Bundle.module.url(forResource: "embedding_fixtures", withExtension: "json",
                                                 subdirectory: "Fixtures"))
        return try JSONDecoder().decode(EmbeddingFixtures.self, from: Data(contentsOf: url))
    }
}

@Suite struct EmbeddingTests {
    @Test func tokenizerIDsEqualTheReferenceTokenizers() throws {
        let embedder = try ModelLocation.load()
        for fixture in try EmbeddingFixtures.load().cases {
            #expect(embedder.tokenizer.encode(fixture.text, maxLength: 256) == fixture.ids, "\(fixture.text)")
        }
    }

    @Test func embeddingsMatchTheReferenceImplementation() throws {
        let embedder = try ModelLocation.load()
        let cases = try EmbeddingFixtures.load().cases
        // Batched, so sequences of different lengths share one padded forward pass.
        let vectors = embedder.embed(cases.map(\.text), batchSize: 8)
        for (fixture, vector) in zip(cases, vectors) {
            #expect(vector.count == SentenceEmbedder.dimension)
            let cosine = zip(fixture.vector, vector).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(cosine >= 0.999, "cosine \(cosine) for \(fixture.text.prefix(60))")
        }
    }

    @Test func similarSentencesAreCloserThanUnrelatedOnes() throws {
        let embedder = try ModelLocation.load()
        let vectors = embedder.embed(["The press stopped because the guard door was opened.",
                                      "Opening the safety door halts the press.",
                                      "Bake the bread for forty minutes."])
        let related = zip(vectors[0], vectors[1]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let unrelated = zip(vectors[0], vectors[2]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        #expect(related > unrelated + 0.3)
    }

    @Test func missingModelSaysHowToFetchIt() {
        #expect(throws: RagError.self) { try SentenceEmbedder(modelDirectory: "/nonexistent/model") }
        do {
            _ = try SentenceEmbedder(modelDirectory: "/nonexistent/model")
        } catch {
            #expect(error.code == .modelMissing)
            #expect(error.message.contains("fetch-model.sh"))
        }
    }
}
