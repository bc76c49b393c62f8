import Foundation
import Glibc

/// A deployment test failed for a reason the message explains.
struct DeployTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The repository checkout the tests run in: deploy/, scripts/ and compose.yaml are read from here.
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `relative` inside the checkout.
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// A fresh, private temporary folder the caller removes.
    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("deploy-tests-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A command-line tool the tests start (mosquitto, mosquitto_sub, docker-compose, kubectl, the scripts),
/// found on PATH through /usr/bin/env, its output written to files so a full pipe never blocks it.
final class ChildProcess: Sendable {
    let process: Process
    let name: String
    private let outputURL: URL
    private let errorURL: URL

    /// Starts `arguments[0]` with the rest as its arguments, in `directory` (default: the checkout). With
    /// `inherit` false the child sees only PATH, HOME and `environment`, so the test harness's own variables
    /// (MQTT_HOST, …) cannot change what compose or a script resolves.
    init(_ arguments: [String], environment: [String: String] = [:], inherit: Bool = true,
         directory: String? = nil) throws {
        name = arguments.first ?? "?"
        let logs = FileManager.default.temporaryDirectory
        let id = UUID().uuidString.prefix(8)
        outputURL = logs.appendingPathComponent("deploy-tests-\(id).out")
        errorURL = logs.appendingPathComponent("deploy-tests-\(id).err")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let parent = ProcessInfo.processInfo.environment
        let base = inherit ? parent : parent.filter { $0.key == "PATH" || $0.key == "HOME" }
        process.environment = base.merging(environment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? Repository.root.path)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outputURL)
        try? FileManager.default.removeItem(at: errorURL)
    }

    /// What the process wrote to standard output so far.
    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
    /// What the process wrote to standard error so far.
    var errorOutput: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }

    /// Waits for the exit and returns the status; throws (and terminates it) after `timeout`.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw DeployTestFailure("\(name) still running after \(timeout); stderr:\n\(errorOutput)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Runs a command to its end: (status, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:], inherit: Bool = true,
                    directory: String? = nil,
                    timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String, error: String) {
        let child = try ChildProcess(arguments, environment: environment, inherit: inherit, directory: directory)
        let status = try await child.waitForExit(timeout: timeout)
        return (status, child.output, child.errorOutput)
    }

    /// Stops a long-running child and waits for it. SIGKILL, because a child inherits the test runner
    /// thread's signal mask, in which SIGTERM and SIGINT are blocked: they would never arrive.
    func stop() async {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = try? await waitForExit(timeout: .seconds(5))
    }
}

/// TCP ports on 127.0.0.1.
enum LocalPort {
    /// A port nothing listens on right now: the kernel's pick for port 0, released again.
    static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DeployTestFailure("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw DeployTestFailure("cannot bind a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on `port`.
    static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
