import Foundation

/// BERT's uncased WordPiece tokenizer, as `transformers`' `BertTokenizer` does it: clean the text, put
/// spaces around CJK ideographs, lower-case and strip accents, split on whitespace and punctuation, then
/// split each word greedily into the longest pieces the vocabulary knows (`##` marks a continuation).
public struct WordPieceTokenizer: Sendable {
    /// Token ids by piece.
    private let vocabulary: [String: Int32]
    public let unknownID: Int32
    public let classID: Int32
    public let separatorID: Int32
    public let paddingID: Int32
    /// Words longer than this many characters become `[UNK]` (BertTokenizer's `max_input_chars_per_word`).
    private let maxCharactersPerWord = 100

    /// Loads `vocab.txt`: one piece per line, the line number is the id.
    public init(vocabularyPath: String) throws(RagError) {
        guard let data = FileManager.default.contents(atPath: vocabularyPath),
              let text = String(data: data, encoding: .utf8) else {
            throw RagError(code: .modelMissing, message: "cannot read \(vocabularyPath); run scripts/fetch-model.sh",
                           context: "load vocabulary")
        }
        try self.init(vocabulary: text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) })
    }

    /// A tokenizer over `pieces`, the id of each being its index.
    public init(vocabulary pieces: [String]) throws(RagError) {
        var vocabulary: [String: Int32] = [:]
        for (index, piece) in pieces.enumerated() where !piece.isEmpty && vocabulary[piece] == nil {
            vocabulary[piece] = Int32(index)
        }
        func id(_ piece: String) throws(RagError) -> Int32 {
            guard let id = vocabulary[piece] else {
                throw RagError(code: .invalidModel, message: "vocabulary lacks \(piece)", context: "load vocabulary")
            }
            return id
        }
        self.vocabulary = vocabulary
        unknownID = try id("[UNK]")
        classID = try id("[CLS]")
        separatorID = try id("[SEP]")
        paddingID = try id("[PAD]")
    }

    /// `[CLS] pieces… [SEP]`, truncated so the whole sequence is at most `maxLength` ids.
    public func encode(_ text: String, maxLength: Int = 256) -> [Int32] {
        var ids = [classID]
        for word in basicTokens(text) {
            ids.append(contentsOf: wordPieces(word))
            if ids.count >= maxLength - 1 { break }
        }
        if ids.count > maxLength - 1 { ids.removeLast(ids.count - (maxLength - 1)) }
        ids.append(separatorID)
        return ids
    }

    /// The words BERT's basic tokenizer produces: lower-cased, accents stripped, punctuation split off.
    func basicTokens(_ text: String) -> [String] {
        // Clean: drop NUL, U+FFFD and control characters; every kind of whitespace becomes a space; CJK
        // ideographs become words of their own.
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if Self.isCJK(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        var words: [String] = []
        for raw in String(cleaned).split(separator: " ", omittingEmptySubsequences: true) {
            // Lower-case, then NFD and drop combining marks (strip_accents).
            let folded = String(raw).lowercased().decomposedStringWithCanonicalMapping
            var current = String.UnicodeScalarView()
            for scalar in folded.unicodeScalars {
                if scalar.properties.generalCategory == .nonspacingMark { continue }
                if Self.isPunctuation(scalar) {
                    if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
                    words.append(String(scalar))
                } else {
                    current.append(scalar)
                }
            }
            if !current.isEmpty { words.append(String(current)) }
        }
        return words
    }

    /// Greedy longest-match-first WordPiece split of one word; `[UNK]` when any part is unknown.
    func wordPieces(_ word: String) -> [Int32] {
        let scalars = Array(word.unicodeScalars)
        if scalars.count > maxCharactersPerWord { return [unknownID] }
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int32?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if let id = vocabulary[candidate] { found = id; break }
                end -= 1
            }
            guard let found else { return [unknownID] }
            pieces.append(found)
            start = end
        }
        return pieces
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { return true }
        return scalar.properties.generalCategory == .spaceSeparator
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        let category = scalar.properties.generalCategory
        return category == .control || category == .format
    }

    /// ASCII symbols count as punctuation too (`$`, `^`, `` ` `` are not Unicode punctuation), as in BERT.
    private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value)
            || (123...126).contains(value) { return true }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT treats as one word per character.
    private static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return (0x4E00...0x9FFF).contains(value) || (0x3400...0x4DBF).contains(value)
            || (0x20000...0x2A6DF).contains(value) || (0x2A700...0x2B73F).contains(value)
            || (0x2B740...0x2B81F).contains(value) || (0x2B820...0x2CEAF).contains(value)
            || (0xF900...0xFAFF).contains(value) || (0x2F800...0x2FA1F).contains(value)
    }
}
