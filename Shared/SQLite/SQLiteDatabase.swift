import CSQLite
import Dispatch

/// An open SQLite database file: one connection, owned by one serial queue.
///
/// Every call hops onto that queue and suspends the caller with a continuation, so `sqlite3_step` and friends
/// never block Swift's cooperative thread pool. Calls from many tasks queue up in arrival order.
/// Open several `SQLiteDatabase`s on the same file for parallel readers (WAL allows it). A queued call runs to
/// completion even if its task is cancelled.
///
/// `@unchecked Sendable`: the only mutable state, `connection`, is read and written exclusively by jobs on
/// `queue` (a serial DispatchQueue), which is also the only place the `sqlite3*` is used.
public final class SQLiteDatabase: @unchecked Sendable {
    public let configuration: SQLiteConfiguration
    private let queue: DispatchQueue
    /// nil after `close()`. Touched only on `queue`.
    private var connection: SQLite3Connection?

    private init(configuration: SQLiteConfiguration, queue: DispatchQueue, connection: SQLite3Connection) {
        self.configuration = configuration
        self.queue = queue
        self.connection = connection
    }

    /// Opens (and by default creates) the database and applies journal mode, synchronous, busy timeout,
    /// foreign keys and extra pragmas. Any failure closes the handle before throwing.
    public static func open(_ configuration: SQLiteConfiguration) async throws -> SQLiteDatabase {
        let queue = DispatchQueue(label: "shopfloor.sqlite")
        let box: UncheckedBox<SQLite3Connection> = try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    let flags: Int32 = switch configuration.mode {
                    case .readWriteCreate: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                    case .readWrite: SQLITE_OPEN_READWRITE
                    case .readOnly: SQLITE_OPEN_READONLY
                    }
                    // NOMUTEX: our queue already serialises every use of the handle.
                    let connection = try SQLite3Connection(path: configuration.path, flags: flags | SQLITE_OPEN_NOMUTEX)
                    let milliseconds = configuration.busyTimeout.components.seconds * 1000
                        + configuration.busyTimeout.components.attoseconds / 1_000_000_000_000_000
                    sqlite3_busy_timeout(connection.raw, Int32(clamping: milliseconds))
                    for statement in try configuration.setupSQL() {
                        try connection.exec(statement)
                    }
                    return UncheckedBox(connection)
                })
            }
        }
        return SQLiteDatabase(configuration: configuration, queue: queue, connection: box.value)
    }

    /// Runs `body` on the connection's queue with a synchronous session (no transaction of its own).
    public func withSession<T: Sendable>(_ body: @escaping @Sendable (SQLiteSession) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let connection = self.connection else {
                    continuation.resume(throwing: SQLiteError(code: .closed, message: "the database was closed",
                                                              context: "\(self.configuration.path)"))
                    return
                }
                continuation.resume(with: Result { try body(SQLiteSession(connection: connection)) })
            }
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; any error thrown by `body` or by COMMIT rolls back.
    ///
    /// IMMEDIATE takes the write lock up front, so two writers wait on `busy_timeout` instead of one failing
    /// with SQLITE_BUSY when it upgrades from reading to writing mid-transaction.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteSession) throws -> T) async throws -> T {
        try await withSession { session in
            try session.inTransaction { try body(session) }
        }
    }

    /// Runs one or more statements that take no binds.
    public func execute(_ sql: String) async throws {
        try await withSession { try $0.execute(sql) }
    }

    /// Runs one statement with binds; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ binds: [SQLiteValue] = []) async throws -> Int {
        try await withSession { try $0.run(sql, binds) }
    }

    /// Runs one statement with binds and returns all its rows.
    public func query(_ sql: String, _ binds: [SQLiteValue] = []) async throws -> [SQLiteRow] {
        try await withSession { try $0.query(sql, binds) }
    }

    /// Closes the connection after every queued call has run; later calls throw `closed`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.connection = nil
                continuation.resume()
            }
        }
    }
}

extension SQLiteSession {
    /// BEGIN IMMEDIATE / COMMIT around `body`, ROLLBACK on any error; the original error is rethrown.
    func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // A failed COMMIT may already have ended the transaction; only roll back if one is still open.
            if isInTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }
}

/// Carries a non-Sendable handle out of the queue job that created it, exactly once, to its owner.
/// Safe because the creating job keeps no reference and the owner uses it only on the same queue.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
