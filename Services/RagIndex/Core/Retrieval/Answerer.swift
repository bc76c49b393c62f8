import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

/// A cited source of an answer, as `ask --json` prints it and the MQTT reply carries it.
public struct AnswerSource: Codable, Sendable, Hashable {
    /// Document path relative to the indexed folder, or `event:<type>` for a plant event.
    public var doc: String
    /// Fusion score (higher is better).
    public var score: Double
    /// Heading path of the chunk, or the event's subject.
    public var heading: String
    /// `first-last` line range in the document; for an event, its time.
    public var lines: String
    /// The event id, for event sources.
    public var event: String?
}

/// An answer with its sources; `[n]` in the text refers to `sources[n-1]`.
public struct Answer: Codable, Sendable, Hashable {
    public var answer: String
    public var sources: [AnswerSource]
}

/// An `ask` request as it arrives over MQTT: `{"question": "...", "limit": 5}`.
public struct AskRequest: Sendable, Hashable {
    public static let limits = 1...20
    public var question: String
    public var limit: Int

    public init(question: String, limit: Int = 5) {
        self.question = question
        self.limit = limit
    }

    /// The request's wire form; fields are optional so each missing one gets its own message.
    private struct Wire: Decodable {
        var question: String?
        var limit: Int?
    }

    /// Parses and validates a JSON request; a malformed one throws `badRequest` saying what is expected.
    public init(json bytes: [UInt8]) throws(RagError) {
        guard (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any] else {
            throw RagError(code: .badRequest, message: #"the request is not a JSON object; send {"question": "...", "limit": 5}"#,
                           context: "ask")
        }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(bytes))
        } catch {
            throw RagError(code: .badRequest, message: #""question" must be a string and "limit" an integer in 1…20"#,
                           context: "ask")
        }
        guard let question = wire.question, !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RagError(code: .badRequest, message: #""question" must be a non-empty string"#, context: "ask")
        }
        let limit = wire.limit ?? 5
        guard Self.limits.contains(limit) else {
            throw RagError(code: .badRequest, message: #""limit" is \#(limit); expected an integer in 1…20"#, context: "ask")
        }
        self.init(question: question, limit: limit)
    }
}

/// Where generated answers come from: an OpenAI-compatible chat endpoint (`POST …/v1/chat/completions`).
public struct ChatEndpoint: Sendable, CustomStringConvertible {
    public var url: URL
    public var model: String
    /// Sent as `Authorization: Bearer`; never logged.
    public var apiKey: String?
    public var timeout: TimeInterval

    public init(url: URL, model: String, apiKey: String?, timeout: TimeInterval = 60) {
        self.url = url
        self.model = model
        self.apiKey = apiKey
        self.timeout = timeout
    }

    /// The completions URL: the configured one when it already ends in `/chat/completions`, else `<url>/v1/chat/completions`.
    var completionsURL: URL {
        if url.path.hasSuffix("/chat/completions") { return url }
        if url.path.hasSuffix("/v1") || url.path.hasSuffix("/v1/") { return url.appendingPathComponent("chat/completions") }
        return url.appendingPathComponent("v1/chat/completions")
    }

    public var description: String { "\(completionsURL.absoluteString) model=\(model) key=\(apiKey == nil ? "none" : "***")" }
}

/// Turns retrieved passages into an answer: the best sentences, quoted with citations (extractive, the
/// default), or a generated answer from a chat endpoint that is told to cite the numbered sources.
public struct Answerer: Sendable {
    public let retriever: Retriever
    public let chat: ChatEndpoint?
    let logger: Logger

    public init(retriever: Retriever, chat: ChatEndpoint? = nil, logger: Logger = Logger(label: "rag-index")) {
        self.retriever = retriever
        self.chat = chat
        self.logger = logger
    }

    /// Answers `request`: retrieval, then extractive or generated text over the sources.
    public func answer(_ request: AskRequest) async throws -> Answer {
        let passages = try await retriever.search(request.question, limit: request.limit)
        let sources = passages.map(Self.source)
        guard !passages.isEmpty else {
            return Answer(answer: "Nothing in the index answers this question.", sources: [])
        }
        if let chat {
            do {
                return Answer(answer: try await generate(request.question, passages: passages, chat: chat), sources: sources)
            } catch {
                // The documents still answer: fall back to the extractive answer rather than fail the request.
                logger.warning("chat endpoint failed; answering extractively", metadata: ["error": "\(error)"])
            }
        }
        return Answer(answer: await extract(request.question, passages: passages), sources: sources)
    }

    static func source(_ passage: RetrievedPassage) -> AnswerSource {
        let score = (passage.score * 10_000).rounded() / 10_000
        switch passage.origin {
        case .document(let chunk):
            return AnswerSource(doc: chunk.document, score: score, heading: chunk.heading,
                                lines: "\(chunk.firstLine)-\(chunk.lastLine)", event: nil)
        case .event(let event):
            return AnswerSource(doc: "event:\(event.type)", score: score, heading: event.subject, lines: event.time,
                                event: event.id)
        }
    }

    /// The sentences of the top passages closest to the question (cosine of their embeddings, plus a small
    /// bonus for the passage's rank), at most three, each followed by its source number.
    func extract(_ question: String, passages: [RetrievedPassage]) async -> String {
        var candidates: [(sentence: String, context: String, source: Int, rankBonus: Float)] = []
        for (index, passage) in passages.prefix(3).enumerated() {
            // A sentence is judged with its section title ("Fault 111: die jam"): "A part is stuck" alone
            // does not say which fault it explains.
            var title = ""
            if case .document(let chunk) = passage.origin,
               let last = chunk.heading.components(separatedBy: " > ").last { title = last + ": " }
            for sentence in Self.sentences(passage.text) {
                candidates.append((sentence, title + sentence, index + 1, Float(2 - index) * 0.03))
            }
        }
        guard !candidates.isEmpty else { return "" }
        let vectors = await retriever.embedOffPool([question] + candidates.map(\.context))
        let query = vectors[0]
        let scored = candidates.enumerated().map { offset, candidate in
            (offset, zip(query, vectors[offset + 1]).reduce(Float(0)) { $0 + $1.0 * $1.1 } + candidate.rankBonus)
        }.sorted { $0.1 > $1.1 }
        guard let best = scored.first?.1 else { return "" }
        // Keep close runners-up only: a weak sentence dilutes an answer more than a missing one.
        let chosen = scored.prefix(3).filter { $0.1 >= best - 0.12 }.map(\.0).sorted()
        return chosen.map { "\(candidates[$0].sentence) [\(candidates[$0].source)]" }.joined(separator: " ")
    }

    /// Splits a passage into sentences. Wrapped lines of one paragraph are joined first; Markdown list items
    /// and table rows are sentences of their own; emphasis, code ticks and link targets are dropped.
    static func sentences(_ text: String) -> [String] {
        var blocks: [String] = []
        var current = ""
        var inFence = false
        func close() {
            if !current.isEmpty { blocks.append(current) }
            current = ""
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") || line.hasPrefix("~~~") { inFence.toggle(); close(); continue }
            if inFence || line.isEmpty || line.allSatisfy({ "|-: ".contains($0) }) { close(); continue }
            if line.hasPrefix("|") {
                close()
                blocks.append(line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }.joined(separator: "; ") + ".")
                continue
            }
            var startsBlock = false
            for marker in ["- ", "* ", "> "] where line.hasPrefix(marker) {
                line = String(line.dropFirst(2))
                startsBlock = true
            }
            if let dot = line.firstIndex(of: "."), dot > line.startIndex, line[..<dot].allSatisfy(\.isNumber),
               line[line.index(after: dot)...].hasPrefix(" ") {
                line = String(line[line.index(dot, offsetBy: 2)...])
                startsBlock = true
            }
            if startsBlock { close() }
            current += current.isEmpty ? line : " " + line
        }
        close()
        var result: [String] = []
        for block in blocks {
            let characters = Array(Self.plain(block))
            var sentence = ""
            for (index, character) in characters.enumerated() {
                sentence.append(character)
                let atEnd = index + 1 == characters.count
                if ".!?".contains(character), atEnd || characters[index + 1] == " ",
                   !(character == "." && Self.isAbbreviation(sentence)) {
                    Self.keep(sentence, in: &result)
                    sentence = ""
                }
            }
            Self.keep(sentence, in: &result)
        }
        return result
    }

    /// Markdown inline markup removed: `**bold**`, `` `code` `` and `[text](target)` read as plain text.
    static func plain(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "]"), after[after.index(after: close)...].hasPrefix("("),
               let end = after[close...].firstIndex(of: ")") {
                result += after[..<close]
                rest = after[after.index(after: end)...]
            } else {
                result += "["
                rest = after
            }
        }
        result += rest
        return result.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "`", with: "")
    }

    private static func isAbbreviation(_ text: String) -> Bool {
        let last = text.split(separator: " ").last.map(String.init)?.lowercased() ?? ""
        return ["e.g.", "i.e.", "etc.", "approx.", "no.", "fig.", "vs."].contains(last)
            || (last.count == 2 && last.first?.isNumber == true)
    }

    private static func keep(_ sentence: String, in result: inout [String]) {
        let trimmed = sentence.trimmingCharacters(in: .whitespaces)
        if trimmed.split(separator: " ").count >= 3 { result.append(trimmed) }
    }

    /// Asks the chat endpoint, giving it the numbered passages and the rule to cite them as `[n]`.
    func generate(_ question: String, passages: [RetrievedPassage], chat: ChatEndpoint) async throws -> String {
        let context = passages.enumerated().map { index, passage in
            let source = Self.source(passage)
            return "[\(index + 1)] \(source.doc) — \(source.heading) (\(source.lines))\n\(passage.text)"
        }.joined(separator: "\n\n")
        let body: [String: Any] = [
            "model": chat.model,
            "temperature": 0,
            "messages": [
                ["role": "system", "content": "You answer plant engineers' questions using only the numbered sources. "
                    + "Cite every claim with the source number in brackets, like [1]. If the sources do not answer, say so."],
                ["role": "user", "content": "Sources:\n\n\(context)\n\nQuestion: \(question)"],
            ],
        ]
        var request = URLRequest(url: chat.completionsURL, timeoutInterval: chat.timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let key = chat.apiKey { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw RagError(code: .llmFailed, message: "\(chat.completionsURL.absoluteString) answered HTTP \(status)",
                           context: "generate")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let choices = object["choices"] as? [[String: Any]], let message = choices.first?["message"] as? [String: Any],
              let content = message["content"] as? String, !content.isEmpty else {
            throw RagError(code: .llmFailed, message: "the reply has no choices[0].message.content", context: "generate")
        }
        return content.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
