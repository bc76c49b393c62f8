import Foundation
import SQLite

/// A chunk as stored: its id, where it came from and its vector.
public struct StoredChunk: Sendable, Hashable {
    public var id: Int64
    /// Path relative to the indexed folder, `/`-separated.
    public var document: String
    public var heading: String
    public var firstLine: Int
    public var lastLine: Int
    public var text: String
}

/// A plant event kept for live questions.
public struct StoredEvent: Sendable, Hashable {
    public var id: String
    public var time: String
    public var type: String
    public var subject: String
    /// The sentence the event is indexed and quoted as.
    public var text: String
}

/// rag-index's own SQLite file: documents with their content hash, chunks with their text and embedding
/// (384 little-endian Float32 as a blob), an FTS5 table for BM25, and a bounded table of recent events.
public final class IndexStore: Sendable {
    let database: SQLiteDatabase

    static let migrations: [SQLiteMigration] = [
        SQLiteMigration(version: 1, name: "rag index", sql: """
            CREATE TABLE documents (path TEXT PRIMARY KEY, hash TEXT NOT NULL, chunks INTEGER NOT NULL,
                                    indexed_at REAL NOT NULL);
            CREATE TABLE chunks (id INTEGER PRIMARY KEY, document TEXT NOT NULL REFERENCES documents(path)
                                 ON DELETE CASCADE, heading TEXT NOT NULL, first_line INTEGER NOT NULL,
                                 last_line INTEGER NOT NULL, body TEXT NOT NULL, embedding BLOB NOT NULL);
            CREATE INDEX chunks_document ON chunks(document);
            -- BM25 over heading and body; rowid = chunks.id. Porter stemming so "stopped" finds "stops".
            CREATE VIRTUAL TABLE chunk_terms USING fts5(heading, body, tokenize = 'porter unicode61');
            CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, time TEXT NOT NULL,
                                 type TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
                                 embedding BLOB NOT NULL);
            CREATE VIRTUAL TABLE event_terms USING fts5(body, tokenize = 'porter unicode61');
            """),
    ]

    private init(database: SQLiteDatabase) { self.database = database }

    /// Opens (creating when `create`) the index at `path` and brings its schema up to date.
    public static func open(path: String, create: Bool = true) async throws -> IndexStore {
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw RagError(code: .invalidIndex, message: "no index at \(path); build one with `rag-index index DIR --index \(path)`",
                           context: "open index")
        }
        let database = try await SQLiteDatabase.open(SQLiteConfiguration(path: path))
        try await database.migrate(migrations)
        return IndexStore(database: database)
    }

    public func close() async { await database.close() }

    /// Content hash per indexed document.
    public func documentHashes() async throws -> [String: String] {
        let rows = try await database.query("SELECT path, hash FROM documents")
        var hashes: [String: String] = [:]
        for row in rows { hashes[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1) }
        return hashes
    }

    /// Replaces everything stored for `document` with `chunks` (their vectors in the same order), atomically.
    public func replace(document: String, hash: String, chunks: [DocumentChunk], vectors: [[Float]]) async throws {
        let blobs = vectors.map(Self.blob)
        try await database.transaction { session in
            try Self.delete(document: document, in: session)
            try session.run("INSERT INTO documents (path, hash, chunks, indexed_at) VALUES (?, ?, ?, ?)",
                            [.text(document), .text(hash), .integer(Int64(chunks.count)),
                             .real(Date().timeIntervalSince1970)])
            let insert = try session.prepare(
                "INSERT INTO chunks (document, heading, first_line, last_line, body, embedding) VALUES (?, ?, ?, ?, ?, ?)")
            let terms = try session.prepare("INSERT INTO chunk_terms (rowid, heading, body) VALUES (?, ?, ?)")
            for (chunk, blob) in zip(chunks, blobs) {
                _ = try insert.run([.text(document), .text(chunk.heading), .integer(Int64(chunk.firstLine)),
                                    .integer(Int64(chunk.lastLine)), .text(chunk.text), .blob(blob)])
                _ = try terms.run([.integer(session.lastInsertRowID), .text(chunk.heading), .text(chunk.text)])
            }
        }
    }

    /// Forgets a document that no longer exists.
    public func remove(document: String) async throws {
        try await database.transaction { session in try Self.delete(document: document, in: session) }
    }

    private static func delete(document: String, in session: SQLiteSession) throws {
        _ = try session.run("DELETE FROM chunk_terms WHERE rowid IN (SELECT id FROM chunks WHERE document = ?)",
                            [.text(document)])
        _ = try session.run("DELETE FROM chunks WHERE document = ?", [.text(document)])
        _ = try session.run("DELETE FROM documents WHERE path = ?", [.text(document)])
    }

    /// Number of chunks and documents.
    public func counts() async throws -> (documents: Int, chunks: Int, events: Int) {
        let row = try await database.query("""
            SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks), (SELECT count(*) FROM events)
            """)
        guard let first = row.first else { return (0, 0, 0) }
        return (Int(try first.decode(Int64.self, at: 0)), Int(try first.decode(Int64.self, at: 1)),
                Int(try first.decode(Int64.self, at: 2)))
    }

    /// Every chunk id with its vector, for exact dense search.
    public func allVectors() async throws -> (ids: [Int64], matrix: [Float]) {
        let rows = try await database.query("SELECT id, embedding FROM chunks ORDER BY id")
        var ids: [Int64] = []
        var matrix: [Float] = []
        ids.reserveCapacity(rows.count)
        matrix.reserveCapacity(rows.count * SentenceEmbedder.dimension)
        for row in rows {
            let vector = Self.vector(try row.decode([UInt8].self, at: 1))
            guard vector.count == SentenceEmbedder.dimension else { continue }
            ids.append(try row.decode(Int64.self, at: 0))
            matrix.append(contentsOf: vector)
        }
        return (ids, matrix)
    }

    /// Chunk ids ranked by FTS5 BM25 for `terms` (any term may match), best first.
    public func lexicalSearch(_ terms: [String], limit: Int) async throws -> [Int64] {
        guard let match = Self.matchExpression(terms) else { return [] }
        // bm25 weights: a heading hit counts more than a body hit.
        let rows = try await database.query(
            "SELECT rowid FROM chunk_terms WHERE chunk_terms MATCH ? ORDER BY bm25(chunk_terms, 2.0, 1.0) LIMIT ?",
            [.text(match), .integer(Int64(limit))])
        return try rows.map { try $0.decode(Int64.self, at: 0) }
    }

    /// The chunks with these ids.
    public func chunks(_ ids: [Int64]) async throws -> [Int64: StoredChunk] {
        guard !ids.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ",")
        let rows = try await database.query(
            "SELECT id, document, heading, first_line, last_line, body FROM chunks WHERE id IN (\(placeholders))",
            ids.map { .integer($0) })
        var result: [Int64: StoredChunk] = [:]
        for row in rows {
            let chunk = StoredChunk(id: try row.decode(Int64.self, at: 0), document: try row.decode(String.self, at: 1),
                                    heading: try row.decode(String.self, at: 2),
                                    firstLine: Int(try row.decode(Int64.self, at: 3)),
                                    lastLine: Int(try row.decode(Int64.self, at: 4)), text: try row.decode(String.self, at: 5))
            result[chunk.id] = chunk
        }
        return result
    }

    // MARK: Events

    /// Records an event (ignoring a redelivered id) and keeps only the newest `keep`.
    public func record(event: StoredEvent, vector: [Float], keep: Int) async throws {
        let blob = Self.blob(vector)
        try await database.transaction { session in
            let inserted = try session.run("""
                INSERT OR IGNORE INTO events (id, time, type, subject, body, embedding) VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(event.id), .text(event.time), .text(event.type), .text(event.subject), .text(event.text),
                      .blob(blob)])
            if inserted > 0 {
                _ = try session.run("INSERT INTO event_terms (rowid, body) VALUES (?, ?)",
                                    [.integer(session.lastInsertRowID), .text(event.text)])
                _ = try session.run("""
                    DELETE FROM event_terms WHERE rowid IN (SELECT seq FROM events ORDER BY seq DESC LIMIT -1 OFFSET ?)
                    """, [.integer(Int64(keep))])
                _ = try session.run("DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                                    [.integer(Int64(keep))])
            }
        }
    }

    /// Every kept event with its vector, newest first.
    public func events() async throws -> [(event: StoredEvent, vector: [Float], seq: Int64)] {
        let rows = try await database.query(
            "SELECT id, time, type, subject, body, embedding, seq FROM events ORDER BY seq DESC")
        return try rows.map { row in
            (StoredEvent(id: try row.decode(String.self, at: 0), time: try row.decode(String.self, at: 1),
                         type: try row.decode(String.self, at: 2), subject: try row.decode(String.self, at: 3),
                         text: try row.decode(String.self, at: 4)),
             Self.vector(try row.decode([UInt8].self, at: 5)), try row.decode(Int64.self, at: 6))
        }
    }

    /// Event sequence numbers ranked by BM25.
    public func lexicalEventSearch(_ terms: [String], limit: Int) async throws -> [Int64] {
        guard let match = Self.matchExpression(terms) else { return [] }
        let rows = try await database.query(
            "SELECT rowid FROM event_terms WHERE event_terms MATCH ? ORDER BY bm25(event_terms) LIMIT ?",
            [.text(match), .integer(Int64(limit))])
        return try rows.map { try $0.decode(Int64.self, at: 0) }
    }

    // MARK: Encoding

    /// `"a" OR "b"`: each term quoted, so FTS5 syntax in a question can never break the query.
    static func matchExpression(_ terms: [String]) -> String? {
        let quoted = terms.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return quoted.isEmpty ? nil : quoted.joined(separator: " OR ")
    }

    static func blob(_ vector: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    static func vector(_ bytes: [UInt8]) -> [Float] {
        let count = bytes.count / 4
        return (0..<count).map { index in
            var bits: UInt32 = 0
            for byte in 0..<4 { bits |= UInt32(bytes[index * 4 + byte]) << (8 * byte) }
            return Float(bitPattern: bits)
        }
    }
}
