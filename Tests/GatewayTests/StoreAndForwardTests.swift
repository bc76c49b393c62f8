import Foundation
import Sparkplug
import Testing
import TestSupport

@testable import Gateway

/// A mosquitto of the test's own (ports 18861…18869). With `persistent`, it can be stopped and restarted
/// on the same port with the recorder's session and queued messages intact; without, a restart forgets
/// sessions and retained messages, as a broker that crashed without persistence does.
final class OwnBroker: @unchecked Sendable {
    // @unchecked: `process` is only replaced by start()/stop(), which the single test task calls in turn.
    let port: Int
    let directory: URL
    private var process: ChildProcess?

    init(persistent: Bool = true) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-mosquitto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = Int.random(in: 18861...18869)
        let config = """
            listener \(port) 127.0.0.1
            allow_anonymous true
            user root
            persistence \(persistent)
            persistence_location \(directory.path)/
            queue_qos0_messages true
            max_queued_messages 0
            log_dest none
            """
        try config.write(to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
    }

    func start() async throws {
        let process = try ChildProcess(["/usr/sbin/mosquitto", "-c", directory.appendingPathComponent("mosquitto.conf").path])
        self.process = process
        let port = self.port
        try await TestSupport.poll("mosquitto on \(port)") {
            guard process.isRunning else { throw BrokerExited(port: port) }
            return Self.listening(port)
        }
    }

    func stop() async throws {
        try await process?.stop()
        process = nil
    }

    static func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// A child process started with an empty signal mask: the test process blocks SIGTERM on its threads and
/// Foundation's `Process` passes that mask on, leaving children (mosquitto, python) that ignore SIGTERM.
final class ChildProcess: Sendable {
    let pid: pid_t

    init(_ arguments: [String]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        // Quiet children: their output would interleave with the test log.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], &actions, &attributes, &cArguments, environ)
        guard rc == 0 else { throw TestEnvironment.Missing(description: "cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Still running (reaps it when it has exited).
    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// SIGTERM, then polls until it has exited.
    func stop() async throws {
        kill(pid, SIGTERM)
        try await TestSupport.poll("pid \(pid) to exit") { !isRunning }
    }
}

/// mosquitto stopped before it listened (most likely its port was taken).
struct BrokerExited: Error, CustomStringConvertible {
    let port: Int
    var description: String { "mosquitto exited before listening on \(port) (port taken?)" }
}

@Suite(.serialized) struct StoreAndForwardTests {
    /// The messages from the second NBIRTH on.
    static func secondSession(_ seen: [Seen]) -> ArraySlice<Seen> {
        let births = seen.indices.filter { seen[$0].verb == .nbirth }
        guard births.count >= 2 else { return [] }
        return seen[births[1]...]
    }

    func firstBirthBdSeq(_ recorder: SparkplugRecorder) -> MetricValue? {
        recorder.seen.value.first { $0.verb == .nbirth }?.payload.metrics.first { $0.name == "bdSeq" }?.value
    }

    @Test func samplesTakenDuringAnOutageArriveOnceFlaggedHistorical() async throws {
        let broker = try OwnBroker()
        try await broker.start()
        let (device, server) = try await TestDevice.start()
        let group = "gw-saf-" + UUID().uuidString.lowercased().prefix(8)
        let recorder = try await SparkplugRecorder(group: group, host: "127.0.0.1", port: broker.port,
                                                   persistentID: "rec-\(group)")
        let gateway = try await RunningGateway.start(yaml: gatewayYAML(group: group, port: server.port, interval: "50ms"),
                                                     host: "127.0.0.1", port: broker.port)
        let firstBirth = try await recorder.wait(for: "DBIRTH") { $0.verb == .dbirth }
        let countAlias = try #require(firstBirth.payload.metrics.first { $0.name == "count" }?.alias)
        // Samples read before the first connect were spooled too; let them drain so the outage starts clean.
        try await TestSupport.poll("startup spool drained") { gateway.service.spoolDepth == 0 }

        try await broker.stop()
        try await TestSupport.poll("gateway to notice the outage") { !gateway.service.machine.withLock { $0.isOnline } }
        // Ten distinct samples, each one read by the gateway while the broker is down.
        for value in UInt32(1)...10 {
            device.setRegister(2, UInt16(value))
            try await TestSupport.poll("sample \(value) read") {
                gateway.service.machine.withLock { $0.current(device: 0, metric: 1) } == .uint32(value)
            }
        }
        try await broker.start()

        // The new session: from the second NBIRTH on (the recorder may also get the old session's Will, its
        // NDEATH with the old bdSeq, from the broker's queue).
        let oldBdSeq = try #require(firstBirthBdSeq(recorder))
        try await TestSupport.poll("historical samples 1…10 replayed", timeout: .seconds(20)) {
            let session = Self.secondSession(recorder.seen.value)
            return session.filter { $0.verb == .ddata }.flatMap(\.metrics)
                .contains { $0.isHistorical && $0.alias == countAlias && $0.value == .uint32(10) }
        }
        let session = Self.secondSession(recorder.seen.value)
        #expect(session.first?.payload.metrics.first { $0.name == "bdSeq" }?.value != oldBdSeq)
        #expect(session.dropFirst().first?.verb == .dbirth)
        #expect(recorder.seen.value.filter { $0.verb == .ndeath }.allSatisfy { $0.payload.metrics.first?.value == oldBdSeq })
        let historical = session.filter { $0.verb == .ddata }.flatMap(\.metrics)
            .filter { $0.isHistorical && $0.alias == countAlias }
        // Each sample exactly once, in the order taken.
        #expect(historical.compactMap(\.value) == (1...10).map { MetricValue.uint32($0) })
        let times = historical.compactMap(\.timestamp)
        #expect(times == times.sorted())
        #expect(recorder.unresolved.value.isEmpty)
        // The spool is drained: a rebirth after it replays nothing again.
        try await TestSupport.poll("spool empty") { gateway.service.spoolDepth == 0 }
        let beforeRebirth = recorder.count
        try await recorder.command(.ncmd, edge: "edge-1", metrics: [
            Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(true)),
        ])
        try await recorder.wait(for: "DBIRTH after rebirth", after: beforeRebirth) { $0.verb == .dbirth }
        try await recorder.wait(for: "NDATA after rebirth", after: beforeRebirth) { $0.verb == .ndata }
        #expect(!recorder.seen.value[beforeRebirth...].contains { $0.metrics.contains(where: \.isHistorical) })
        try await gateway.stop()
        await recorder.stop()
        await server.close()
        try await broker.stop()
    }
}
