/// How to open an SQLite database: file, access mode, locking and durability.
///
/// Defaults suit a service's own store: create if missing, WAL journal, `synchronous=NORMAL` (durable across
/// process crashes; the last transactions may be lost on power loss, which WAL keeps consistent), a 5 s busy
/// timeout and foreign keys on.
public struct SQLiteConfiguration: Sendable, Hashable {
    /// Whether the file may be created and written.
    public enum Mode: Sendable, Hashable {
        case readWriteCreate
        case readWrite
        case readOnly
    }

    /// `PRAGMA journal_mode` values.
    public enum JournalMode: String, Sendable, Hashable {
        case wal = "WAL"
        case delete = "DELETE"
        case truncate = "TRUNCATE"
        case memory = "MEMORY"
    }

    /// `PRAGMA synchronous` values.
    public enum Synchronous: String, Sendable, Hashable {
        case off = "OFF"
        case normal = "NORMAL"
        case full = "FULL"
        case extra = "EXTRA"
    }

    /// A pragma applied after open, in order (e.g. `cache_size` = `-20000`).
    public struct Pragma: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var path: String
    public var mode: Mode
    /// How long a statement waits for another connection's lock before failing with `busy`.
    public var busyTimeout: Duration
    /// nil leaves the file's journal mode as it is; ignored for read-only opens, which cannot change it.
    public var journalMode: JournalMode?
    public var synchronous: Synchronous
    public var foreignKeys: Bool
    public var pragmas: [Pragma]

    public init(path: String, mode: Mode = .readWriteCreate, busyTimeout: Duration = .seconds(5),
                journalMode: JournalMode? = .wal, synchronous: Synchronous = .normal, foreignKeys: Bool = true,
                pragmas: [Pragma] = []) {
        self.path = path
        self.mode = mode
        self.busyTimeout = busyTimeout
        self.journalMode = journalMode
        self.synchronous = synchronous
        self.foreignKeys = foreignKeys
        self.pragmas = pragmas
    }

    /// The statements applied right after open; pragmas cannot take binds, so names and values are checked
    /// against a conservative alphabet instead.
    func setupSQL() throws -> [String] {
        var statements = ["PRAGMA synchronous = \(synchronous.rawValue)",
                          "PRAGMA foreign_keys = \(foreignKeys ? "ON" : "OFF")"]
        if let journalMode, mode != .readOnly {
            statements.insert("PRAGMA journal_mode = \(journalMode.rawValue)", at: 0)
        }
        for pragma in pragmas {
            guard Self.isSafe(pragma.name, extra: "."), Self.isSafe(pragma.value, extra: "-.") else {
                throw SQLiteError(code: .invalidConfiguration,
                                  message: "pragma \"\(pragma.name)\" = \"\(pragma.value)\": name and value may hold only letters, digits, '_' (and '-', '.' in the value)",
                                  context: "open(\"\(path)\")")
            }
            statements.append("PRAGMA \(pragma.name) = \(pragma.value)")
        }
        return statements
    }

    private static func isSafe(_ text: String, extra: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || extra.contains($0)) }
    }
}
