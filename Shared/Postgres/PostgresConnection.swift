import Dispatch

/// One PostgreSQL connection, owned by one serial queue.
///
/// Every call hops onto that queue and suspends the caller with a continuation, so libpq's blocking calls
/// (`PQconnectdbParams`, `PQexec*`, COPY) never run on Swift's cooperative pool. Calls from many tasks queue
/// up in arrival order; open more connections for parallelism. A queued call runs to completion even if its
/// task is cancelled, and a connection the server dropped is not re-established here: calls then throw
/// `queryFailed` with libpq's reason, and the owner (a service) reconnects with `connect` again.
///
/// `@unchecked Sendable`: the only mutable state, `connection`, is read and written exclusively by jobs on
/// `queue` (a serial DispatchQueue), which is also the only place the `PGconn*` is used.
public final class PostgresConnection: @unchecked Sendable {
    public let configuration: PostgresConfiguration
    private let queue: DispatchQueue
    /// nil after `close()`. Touched only on `queue`.
    private var connection: PGConnection?

    private init(configuration: PostgresConfiguration, queue: DispatchQueue, connection: PGConnection) {
        self.configuration = configuration
        self.queue = queue
        self.connection = connection
    }

    /// Connects; on failure throws `connectionFailed` with libpq's reason and the target (never the password).
    public static func connect(_ configuration: PostgresConfiguration) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "shopfloor.postgres")
        let box: UncheckedBox<PGConnection> = try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { UncheckedBox(try PGConnection(configuration: configuration)) })
            }
        }
        return PostgresConnection(configuration: configuration, queue: queue, connection: box.value)
    }

    /// Runs `body` on the connection's queue with a synchronous session (no transaction of its own).
    public func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let connection = self.connection else {
                    continuation.resume(throwing: PostgresError(code: .closed, message: "the connection was closed",
                                                                context: self.configuration.target))
                    return
                }
                continuation.resume(with: Result { try body(PostgresSession(connection: connection)) })
            }
        }
    }

    /// Runs `body` inside BEGIN … COMMIT; any error thrown by `body` or by COMMIT rolls back.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await withSession { session in
            try session.inTransaction { try body(session) }
        }
    }

    /// Runs one or more statements that take no binds.
    public func execute(_ sql: String) async throws {
        try await withSession { try $0.execute(sql) }
    }

    /// Runs one statement with `$1, $2 …` binds; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ binds: [PostgresValue] = []) async throws -> Int {
        try await withSession { try $0.run(sql, binds) }
    }

    /// Runs one statement with `$1, $2 …` binds and returns all its rows.
    public func query(_ sql: String, _ binds: [PostgresValue] = []) async throws -> [PostgresRow] {
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

/// Carries a non-Sendable handle out of the queue job that created it, exactly once, to its owner.
/// Safe because the creating job keeps no reference and the owner uses it only on the same queue.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
