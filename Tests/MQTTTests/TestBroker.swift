import Foundation
import Synchronization
import TestSupport

/// A mosquitto process a test owns (for broker restarts and for a known queue configuration). Ports come
/// from `MQTT_TEST_BROKER_PORTS` (default `18832-18839`); each process in this test run gets its own.
final class TestBroker: Sendable {
    let port: Int
    let directory: URL
    let allowAnonymous: Bool
    private let process: Mutex<Process?>
    private static let usedPorts = Mutex<Set<Int>>([])

    /// Starts mosquitto on a free port from the range and waits until it accepts connections.
    /// `allowAnonymous: false` makes the broker refuse clients without credentials (no password file).
    init(allowAnonymous: Bool = true) async throws {
        self.allowAnonymous = allowAnonymous
        let rangeText = ProcessInfo.processInfo.environment["MQTT_TEST_BROKER_PORTS"] ?? "18832-18839"
        let bounds = rangeText.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else {
            throw TestEnvironment.Missing(description: "MQTT_TEST_BROKER_PORTS=\"\(rangeText)\" is not a range like 18832-18839")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("mqtt-broker", separator: "-"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = Mutex(nil)
        for candidate in bounds[0]...bounds[1] {
            let claimed = TestBroker.usedPorts.withLock { $0.insert(candidate).inserted }
            guard claimed else { continue }
            if try await TestBroker.launch(port: candidate, directory: directory, allowAnonymous: allowAnonymous, into: process) {
                port = candidate
                return
            }
        }
        throw TestEnvironment.Missing(description: "no free port for a test mosquitto in \(rangeText)")
    }

    /// Starts mosquitto on `port`; false if it exits (port taken) before accepting connections.
    private static func launch(port: Int, directory: URL, allowAnonymous: Bool,
                               into slot: borrowing Mutex<Process?>) async throws -> Bool {
        // Something else (another run's broker) on this port would answer our readiness poll.
        if accepts(port: port) { return false }
        let config = directory.appendingPathComponent("mosquitto.conf")
        let text = """
            listener \(port) 127.0.0.1
            allow_anonymous \(allowAnonymous)
            persistence false
            max_queued_messages 0
            max_inflight_messages 0
            log_dest file \(directory.path)/mosquitto.log
            \(getuid() == 0 ? "user root" : "")

            """
        try text.write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
        process.arguments = ["-c", config.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        slot.withLock { $0 = process }
        do {
            try await poll("mosquitto on port \(port)", timeout: .seconds(5)) {
                if !process.isRunning { return true }
                return TestBroker.accepts(port: port)
            }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            throw error
        }
        // mosquitto may have lost the race for the port to another process and exited meanwhile.
        return process.isRunning && accepts(port: port) && process.isRunning
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Kills mosquitto (SIGKILL: test processes hand their children a blocked SIGTERM) and waits for it.
    func stop() {
        let current = process.withLock { process -> Process? in
            defer { process = nil }
            return process
        }
        guard let current, current.isRunning else { return }
        kill(current.processIdentifier, SIGKILL)
        current.waitUntilExit()
    }

    /// Starts mosquitto again on the same port.
    func restart() async throws {
        stop()
        guard try await TestBroker.launch(port: port, directory: directory, allowAnonymous: allowAnonymous, into: process) else {
            throw TestEnvironment.Missing(description: "mosquitto did not restart on port \(port)")
        }
    }

    deinit {
        stop()
        TestBroker.usedPorts.withLock { _ = $0.remove(port) }
        try? FileManager.default.removeItem(at: directory)
    }
}
