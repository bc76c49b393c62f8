import Foundation
@testable import RagCore
import Testing

@Suite struct ChunkerTests {
    @Test func frontMatterHTMLAndShortcodesAreStrippedButLineNumbersKept() {
        let text = """
            ---
            title: Press
            ---
            # Press
            <div class="note">Check the <b>oil</b> level.</div>
            {{< figure src="press.png" >}}
            {{% notice %}}Wear gloves.{{% /notice %}}
            <!-- hidden
            comment -->
            ## Fault 110
            Hydraulic pressure low.
            """
        let chunks = DocumentChunker().chunks(of: text)
        #expect(chunks.count == 2)
        #expect(chunks[0].heading == "Press")
        #expect(chunks[0].text.contains("Check the oil level."))
        #expect(chunks[0].text.contains("Wear gloves."))
        for forbidden in ["title:", "<div", "<b>", "figure", "notice", "hidden", "{{"] {
            #expect(!chunks[0].text.contains(forbidden), "\(forbidden) left in \(chunks[0].text)")
        }
        #expect(chunks[0].firstLine == 5)
        #expect(chunks[1].heading == "Press > Fault 110")
        #expect(chunks[1].firstLine == 11 && chunks[1].lastLine == 11)
    }

    @Test func longSectionsAreCutIntoOverlappingWindowsWithLineRanges() {
        let lines = (1...60).map { "Line \($0) has exactly six words." }
        let chunks = DocumentChunker(maxWords: 60, overlapWords: 12).chunks(of: "# Long\n" + lines.joined(separator: "\n"))
        #expect(chunks.count > 3)
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            #expect(next.firstLine <= previous.lastLine, "windows overlap")
            #expect(next.firstLine > previous.firstLine, "and always move forward")
        }
        #expect(chunks.first?.firstLine == 2)
        #expect(chunks.last?.lastLine == 61)
    }

    @Test func headingsInsideCodeFencesAreText() {
        let chunks = DocumentChunker().chunks(of: "# Real\n```\n# not a heading\n```\ntext")
        #expect(chunks.count == 1)
        #expect(chunks[0].heading == "Real")
    }
}

@Suite struct RequestTests {
    @Test func validRequestsParse() throws {
        let request = try AskRequest(json: Array(#"{"question": "What is fault 17?", "limit": 3}"#.utf8))
        #expect(request.question == "What is fault 17?")
        #expect(request.limit == 3)
        #expect(try AskRequest(json: Array(#"{"question": "x y"}"#.utf8)).limit == 5)
    }

    @Test(arguments: [
        "not json", "[1,2]", #"{"limit": 3}"#, #"{"question": ""}"#, #"{"question": 5}"#,
        #"{"question": "ok", "limit": 0}"#, #"{"question": "ok", "limit": 21}"#, #"{"question": "ok", "limit": "5"}"#,
    ])
    func malformedRequestsAreRejectedWithBadRequest(_ body: String) {
        do {
            _ = try AskRequest(json: Array(body.utf8))
            Issue.record("\(body) was accepted")
        } catch {
            #expect(error.code == .badRequest)
        }
    }

    @Test func reciprocalRankFusionPrefersDocumentsBothRankingsAgreeOn() {
        let fused = Retriever.fuse([[1, 2, 3], [3, 1, 4]])
        #expect(fused.map(\.id) == [1, 3, 2, 4])
        #expect(abs(fused[0].score - (1.0 / 61 + 1.0 / 62)) < 1e-12)
    }

    @Test func eventsBecomeSentencesNamingTheAssetAndReason() {
        let payload = """
            {"specversion":"1.0","id":"e1","source":"stream","type":"io.shopfloor.equipment.state_changed.v1",
             "time":"2026-11-21T22:10:00Z","subject":"acme/dresden/body-shop/line-1/press-3",
             "data":{"asset":"acme/dresden/body-shop/line-1/press-3","from":"running","to":"down",
                     "reason":"fault 111 die jam","since":"2026-11-21T22:10:00Z"}}
            """
        let event = PlantEventText.event(from: Array(payload.utf8), topic: "uns/v1/acme/dresden/body-shop/line-1/press-3/event/x")
        #expect(event?.text.contains("press-3") == true)
        #expect(event?.text.contains("equipment state changed") == true)
        #expect(event?.text.contains("to down") == true)
        #expect(event?.text.contains("fault 111 die jam") == true)
        let counted = payload.replacingOccurrences(of: "equipment.state_changed", with: "production.counted")
        #expect(PlantEventText.event(from: Array(counted.utf8), topic: "t") == nil)
    }

    @Test func extractiveSentencesJoinWrappedLinesAndDropMarkup() {
        let sentences = Answerer.sentences("""
            The press **stops** when the
            light curtain is interrupted. See [the manual](press.md).

            - Check the oil level in the tank.
            | fault | meaning |
            |---|---|
            | 110 | hydraulic pressure low |
            """)
        #expect(sentences.contains("The press stops when the light curtain is interrupted."))
        #expect(sentences.contains("Check the oil level in the tank."))
        #expect(sentences.contains("110; hydraulic pressure low."))
    }
}

@Suite struct IncrementalIndexingTests {
    @Test func onlyChangedFilesAreReindexedAndDeletedOnesRemoved() async throws {
        let embedder = try ModelLocation.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ name: String, _ text: String) throws {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("press.md", "# Press\nFault 110 means hydraulic pressure low.")
        try write("sub/filler.txt", "Fault 130 means a blocked nozzle.")
        try write("image.png", "not text")
        let store = try await IndexStore.open(path: folder.appendingPathComponent(".index.sqlite").path)
        let indexer = DocumentIndexer(store: store, embedder: embedder)

        let first = try await indexer.index(folder: folder.path)
        #expect(first.added == 2 && first.chunks == 2)
        let again = try await indexer.index(folder: folder.path)
        #expect(again.unchanged == 2 && again.added == 0 && again.updated == 0 && again.chunks == 0)

        try write("press.md", "# Press\nFault 111 means a die jam.\n\n## Light curtain\nFault 112.")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("sub/filler.txt"))
        let changed = try await indexer.index(folder: folder.path)
        #expect(changed.updated == 1 && changed.removed == 1 && changed.unchanged == 0 && changed.chunks == 2)
        #expect(try await store.documentHashes().keys.sorted() == ["press.md"])

        let answer = try await Answerer(retriever: Retriever(store: store, embedder: embedder))
            .answer(AskRequest(question: "what is a die jam?", limit: 2))
        #expect(answer.sources.first?.doc == "press.md")
        #expect(answer.sources.first?.heading == "Press")
        #expect(answer.sources.first?.lines == "2-2")
        #expect(answer.answer.contains("die jam") && answer.answer.contains("[1]"))
        await store.close()
    }
}
