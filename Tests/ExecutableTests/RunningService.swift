import Foundation
import Synchronization

/// One of our executables started as a child process, as an operator would start it, with its standard
/// error captured so tests can read the JSON log lines it writes.
final class RunningService: Sendable {
    let process: Process
    private let errorLines = Mutex<[String]>([])
    private let partial = Mutex<String>("")
    /// Set when stderr reached end of file: everything the process wrote is in `logLines`.
    private let logClosed = Mutex<Bool>(false)

    /// The directory `swift build` wrote the executables to: next to the test bundle, or SHOPFLOOR_BIN_DIR.
    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["SHOPFLOOR_BIN_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // On Linux the test bundle is .build/<config>/<Package>PackageTests.xctest, a file beside the tools.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("gateway").path),
              directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    init(_ name: String, arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(name)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["MQTT_URL", "HTTP_PORT", "LOG_LEVEL", "LOG_FORMAT"] { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                self.logClosed.withLock { $0 = true }
                return
            }
            self.append(String(decoding: data, as: UTF8.self))
        }
        try process.run()
    }

    private func append(_ text: String) {
        let complete: [String] = partial.withLock { buffer in
            buffer += text
            var lines = buffer.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            buffer = lines.removeLast()
            return lines
        }
        errorLines.withLock { $0 += complete }
    }

    var logLines: [String] { errorLines.withLock { $0 } }

    /// Polls the log until a line satisfies `match`, or throws after `timeout` seconds.
    func waitForLog(timeout: Double = 20, _ match: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = logLines.first(where: match) { return line }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("no matching log line within \(timeout) s; exited: \(!process.isRunning); log:\n"
            + logLines.joined(separator: "\n"))
    }

    /// Waits for the process to exit and returns its status, or throws after `timeout` seconds.
    func waitForExit(timeout: Double = 20) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else {
                process.interrupt()
                throw TestFailure("still running \(timeout) s later; log:\n" + logLines.joined(separator: "\n"))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        // The exit can overtake the last lines still in the pipe: read up to its end (briefly: a child it
        // started could hold stderr open).
        let drained = Date().addingTimeInterval(2)
        while !logClosed.withLock({ $0 }), Date() < drained { try await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    func terminate() {
        if process.isRunning { process.terminate() }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A test failure with a message meant for the person reading the test log.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
