import Foundation
import RagCore
import Testing

/// Generated answers through an OpenAI-compatible chat endpoint: a local HTTP server that speaks the
/// `POST /v1/chat/completions` protocol (no real model runs here) records what rag-index sends and answers.
@Suite struct GeneratedAnswerTests {
    /// Serves one canned completion (or HTTP 500) and writes every request's headers and body to `log`.
    static let server = #"""
    import http.server, json, sys
    status, log = int(sys.argv[1]), sys.argv[2]
    class Chat(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with open(log, "a") as out:
                out.write(json.dumps({"path": self.path, "auth": self.headers.get("Authorization"),
                                      "body": json.loads(body)}) + "\n")
            reply = json.dumps({"choices": [{"message": {"role": "assistant",
                                "content": "Lower the die and clear the jam [1]."}}]}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        def log_message(self, *args): pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Chat)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    /// Starts the server; returns the process and its port.
    func startServer(status: Int, log: String) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.server, String(status), log]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        let port = try #require(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)), "chat server did not start")
        return (process, port)
    }

    func answer(status: Int) async throws -> (Answer, [[String: Any]]) {
        let embedder = try ModelLocation.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rag-llm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "# Press\nFault 111 means a die jam: the upper die stopped before bottom dead centre."
            .write(to: folder.appendingPathComponent("press.md"), atomically: true, encoding: .utf8)
        let store = try await IndexStore.open(path: folder.appendingPathComponent(".index.sqlite").path)
        _ = try await DocumentIndexer(store: store, embedder: embedder).index(folder: folder.path)
        let log = folder.appendingPathComponent("requests.jsonl").path
        let (server, port) = try startServer(status: status, log: log)
        // SIGKILL: a child of the test runner inherits SIGTERM blocked.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let chat = ChatEndpoint(url: try #require(URL(string: "http://127.0.0.1:\(port)")), model: "plant-llm",
                                apiKey: "test-key", timeout: 10)
        let answer = try await Answerer(retriever: Retriever(store: store, embedder: embedder), chat: chat)
            .answer(AskRequest(question: "what does fault 111 mean?", limit: 1))
        await store.close()
        let requests = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        } ?? []
        return (answer, requests)
    }

    @Test func theEndpointGetsTheNumberedSourcesAndItsAnswerKeepsTheCitations() async throws {
        let (answer, requests) = try await answer(status: 200)
        #expect(answer.answer == "Lower the die and clear the jam [1].")
        #expect(answer.sources.first?.doc == "press.md")
        let request = try #require(requests.first, "the chat endpoint was not called")
        #expect(request["path"] as? String == "/v1/chat/completions")
        #expect(request["auth"] as? String == "Bearer test-key")
        let body = try #require(request["body"] as? [String: Any])
        #expect(body["model"] as? String == "plant-llm")
        let messages = (body["messages"] as? [[String: Any]])?.compactMap { $0["content"] as? String } ?? []
        let user = try #require(messages.last)
        #expect(user.contains("[1] press.md") && user.contains("die jam") && user.contains("what does fault 111 mean?"))
    }

    @Test func aFailingEndpointFallsBackToTheExtractiveAnswer() async throws {
        let (answer, requests) = try await answer(status: 500)
        #expect(requests.count == 1)
        #expect(answer.answer.contains("die jam") && answer.answer.contains("[1]"))
        #expect(answer.answer != "Lower the die and clear the jam [1].")
    }
}
