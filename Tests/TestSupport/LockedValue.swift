import Synchronization

/// A value several tasks (or a callback thread and a test) read and change, behind a lock.
/// A class so escaping closures can share it, which a `Mutex` local cannot be.
public final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    /// Creates the box holding `value`.
    public init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` with exclusive access to the value.
    public func withLock<T: Sendable>(_ body: (inout Value) throws -> T) rethrows -> T {
        try mutex.withLock { try body(&$0) }
    }

    /// A copy of the current value.
    public var value: Value { mutex.withLock { $0 } }
}
