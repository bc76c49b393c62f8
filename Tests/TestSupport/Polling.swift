/// A condition did not become true before its deadline.
public struct PollTimeout: Error, CustomStringConvertible {
    /// What was being waited for.
    public let description: String
}

/// Re-checks `condition` every `interval` until it holds; throws `PollTimeout` naming `what` after `timeout`.
/// Tests wait for readiness with this instead of sleeping for a guessed time.
public func poll(_ what: String, timeout: Duration = .seconds(10), interval: Duration = .milliseconds(20),
                 until condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try await condition() { return }
        if clock.now >= deadline { throw PollTimeout(description: "timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// Runs `operation`, failing with `PollTimeout` naming `what` if it takes longer than `timeout`.
public func withTimeout<T: Sendable>(_ what: String, _ timeout: Duration = .seconds(10),
                                     _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw PollTimeout(description: "timed out after \(timeout) waiting for \(what)")
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else {
            throw PollTimeout(description: "no result for \(what)")
        }
        return first
    }
}

extension AsyncSequence where Self: Sendable, Element: Sendable {
    /// The first `count` elements, or `PollTimeout` if they do not all arrive within `timeout`.
    public func first(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [Element] {
        try await withTimeout("\(count) elements", timeout) {
            var result: [Element] = []
            guard count > 0 else { return result }
            for try await element in self {
                result.append(element)
                if result.count == count { break }
            }
            return result
        }
    }
}
