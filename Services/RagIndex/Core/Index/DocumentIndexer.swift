import Foundation
import Logging

/// What one indexing run did.
public struct IndexingReport: Sendable, Equatable {
    public var added = 0
    public var updated = 0
    public var unchanged = 0
    public var removed = 0
    /// Chunks embedded and written in this run.
    public var chunks = 0
    public var seconds = 0.0

    public init() {}
}

/// Progress of an indexing run, reported after each file.
public struct IndexingProgress: Sendable {
    public var done: Int
    public var total: Int
    public var document: String
    public var chunks: Int
}

/// Indexes the Markdown and text files under a folder into an `IndexStore`, incrementally: a file whose
/// content hash is unchanged is skipped, a changed one is re-chunked and re-embedded, a deleted one removed.
public struct DocumentIndexer: Sendable {
    /// File name endings that are indexed.
    public static let extensions: Set<String> = ["md", "markdown", "txt", "text", "rst"]

    public let store: IndexStore
    public let embedder: SentenceEmbedder
    public let chunker: DocumentChunker

    public init(store: IndexStore, embedder: SentenceEmbedder, chunker: DocumentChunker = DocumentChunker()) {
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
    }

    /// Brings the index in line with `folder`; `progress` is called after every changed file.
    public func index(folder: String,
                      progress: @Sendable (IndexingProgress) -> Void = { _ in }) async throws -> IndexingReport {
        let started = Date()
        let files = try Self.documents(under: folder)
        var known = try await store.documentHashes()
        var report = IndexingReport()
        for (position, relative) in files.enumerated() {
            // Between files, so a stop during a long first index leaves every finished file in place.
            try Task.checkCancellation()
            let url = URL(fileURLWithPath: folder).appendingPathComponent(relative)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw RagError(code: .documentUnreadable, message: "cannot read \(url.path)", context: "index")
            }
            let hash = Self.hash(data)
            let previous = known.removeValue(forKey: relative)
            if previous == hash {
                report.unchanged += 1
                continue
            }
            // Not UTF-8: read as Latin-1 rather than skip the file; manuals exported from old tools are.
            let text = String(data: data, encoding: .utf8) ?? String(decoding: data, as: Unicode.ASCII.self)
            let chunks = chunker.chunks(of: text)
            // The heading path goes into the embedded text: it says what a short passage is about.
            let vectors = await embed(chunks.map { $0.heading.isEmpty ? $0.text : $0.heading + "\n" + $0.text })
            try await store.replace(document: relative, hash: hash, chunks: chunks, vectors: vectors)
            if previous == nil { report.added += 1 } else { report.updated += 1 }
            report.chunks += chunks.count
            progress(IndexingProgress(done: position + 1, total: files.count, document: relative, chunks: chunks.count))
        }
        for gone in known.keys.sorted() {
            try await store.remove(document: gone)
            report.removed += 1
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// The forward pass is CPU-bound for tens of milliseconds per chunk: keep it off the cooperative pool.
    private func embed(_ texts: [String]) async -> [[Float]] {
        let embedder = self.embedder
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: embedder.embed(texts))
            }
        }
    }

    /// Indexable files under `folder`, as sorted `/`-separated relative paths; hidden entries are skipped.
    static func documents(under folder: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RagError(code: .documentUnreadable, message: "\(folder) is not a folder", context: "index")
        }
        let root = URL(fileURLWithPath: folder).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else { return [] }
        var files: [String] = []
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in walker {
            guard extensions.contains(url.pathExtension.lowercased()),
                  (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = url.standardizedFileURL.path
            files.append(path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : url.lastPathComponent)
        }
        return files.sorted()
    }

    /// FNV-1a 64 of the bytes, 16 hex digits: detects edits, not meant to resist tampering.
    static func hash(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
