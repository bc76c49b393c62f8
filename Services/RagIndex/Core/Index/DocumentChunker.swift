import Foundation

/// One retrievable passage of a document: the text under one heading (or part of it), with where it came from.
public struct DocumentChunk: Sendable, Hashable {
    /// The heading path, outermost first, joined with " > " (empty before the first heading).
    public var heading: String
    /// 1-based, inclusive line range in the original file.
    public var firstLine: Int
    public var lastLine: Int
    /// The cleaned text (no front matter, HTML or shortcodes).
    public var text: String

    public init(heading: String, firstLine: Int, lastLine: Int, text: String) {
        self.heading = heading
        self.firstLine = firstLine
        self.lastLine = lastLine
        self.text = text
    }
}

/// Turns a Markdown or plain-text file into chunks: front matter, HTML tags and template shortcodes are
/// removed (line numbers are kept, so citations point at the original file), sections follow the headings,
/// and a long section is cut into overlapping windows of whole lines.
public struct DocumentChunker: Sendable {
    /// A window holds at most about this many words.
    public var maxWords: Int
    /// Words of the previous window repeated at the start of the next, so an answer split by a cut survives.
    public var overlapWords: Int

    public init(maxWords: Int = 160, overlapWords: Int = 40) {
        self.maxWords = max(20, maxWords)
        self.overlapWords = max(0, min(overlapWords, maxWords / 2))
    }

    /// The chunks of `text`, in document order; empty sections produce none.
    public func chunks(of text: String) -> [DocumentChunk] {
        let lines = Self.clean(text)
        var chunks: [DocumentChunk] = []
        var path: [(level: Int, title: String)] = []
        var section: [(number: Int, text: String)] = []
        var inFence = false

        func flush() {
            defer { section = [] }
            guard section.contains(where: { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty }) else { return }
            let heading = path.map(\.title).joined(separator: " > ")
            var start = 0
            while start < section.count {
                var end = start
                var words = 0
                while end < section.count && (words < maxWords || end == start) {
                    words += Self.wordCount(section[end].text)
                    end += 1
                }
                let window = section[start..<end]
                let body = window.map(\.text).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
                if !body.isEmpty {
                    let first = window.first(where: { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty })?.number
                        ?? window[window.startIndex].number
                    let last = window.last(where: { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty })?.number
                        ?? window[window.index(before: window.endIndex)].number
                    chunks.append(DocumentChunk(heading: heading, firstLine: first, lastLine: last, text: body))
                }
                if end >= section.count { break }
                // Step back whole lines worth about `overlapWords`, but always move forward.
                var back = end
                var overlap = 0
                while back > start + 1 && overlap < overlapWords {
                    back -= 1
                    overlap += Self.wordCount(section[back].text)
                }
                start = overlap > overlapWords && back + 1 < end ? back + 1 : back
            }
        }

        for (index, line) in lines.enumerated() {
            let number = index + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle() }
            if !inFence, let (level, title) = Self.heading(trimmed) {
                flush()
                while let last = path.last, last.level >= level { path.removeLast() }
                path.append((level, title))
                continue
            }
            section.append((number, line))
        }
        flush()
        return chunks
    }

    /// `## Title {#anchor}` → (2, "Title").
    static func heading(_ line: String) -> (Int, String)? {
        guard line.hasPrefix("#") else { return nil }
        let level = line.prefix(while: { $0 == "#" }).count
        guard level <= 6 else { return nil }
        let rest = line.dropFirst(level)
        guard rest.first == " " else { return nil }
        var title = rest.trimmingCharacters(in: .whitespaces)
        if let brace = title.range(of: " {#") { title = String(title[..<brace.lowerBound]) }
        while title.hasSuffix("#") { title.removeLast() }
        title = title.trimmingCharacters(in: .whitespaces)
        return title.isEmpty ? nil : (level, title)
    }

    static func wordCount(_ line: String) -> Int {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).count
    }

    /// The file's lines with front matter blanked and HTML comments, tags and shortcodes removed; the
    /// number of lines never changes.
    static func clean(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        // Front matter: YAML between --- lines or TOML between +++ lines, only at the very top.
        if let first = lines.first, first == "---" || first == "+++" {
            if let close = lines.dropFirst().firstIndex(of: first) {
                for index in 0...close { lines[index] = "" }
            }
        }
        var joined = lines.joined(separator: "\n")
        joined = Self.removing(joined, from: "<!--", to: "-->")
        joined = Self.removing(joined, from: "{{<", to: ">}}")
        joined = Self.removing(joined, from: "{{%", to: "%}}")
        joined = Self.removingTags(joined)
        return joined.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Removes every `open … close` span, keeping the newlines inside it so line numbers stay right.
    private static func removing(_ text: String, from open: String, to close: String) -> String {
        var result = ""
        var rest = text[...]
        while let start = rest.range(of: open) {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].range(of: close) else {
                rest = rest[start.lowerBound...]
                break
            }
            result += String(repeating: "\n", count: rest[start.lowerBound..<end.upperBound].filter { $0 == "\n" }.count)
            rest = rest[end.upperBound...]
        }
        return result + rest
    }

    /// Removes HTML tags (`<div class="x">`, `</span>`, `<br/>`) but not comparisons such as `a < b` or
    /// autolinks' text: a tag starts with `<` followed by a letter, `/` or `!`.
    private static func removingTags(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "<", next < text.endIndex, text[next].isLetter || text[next] == "/" || text[next] == "!",
               let close = text[next...].firstIndex(of: ">"),
               !text[next..<close].contains("\n") || text[next..<close].count < 400 {
                let inner = text[next..<close]
                // Autolinks (<https://…>) keep their text: a person may ask for the URL.
                if inner.hasPrefix("http") { result += inner } else {
                    result += String(repeating: "\n", count: inner.filter { $0 == "\n" }.count)
                }
                index = text.index(after: close)
                continue
            }
            result.append(character)
            index = next
        }
        return result
    }
}
