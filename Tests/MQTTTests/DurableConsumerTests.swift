import Foundation
import MQTT
import Testing
import TestSupport

/// Spawns `DurableProbe` (built next to this test bundle) as a separate process so it can be SIGKILLed.
struct DurableProbeProcess {
    let process: Process

    static var executable: URL {
        get throws {
            let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let candidates = [directory, URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()]
            for candidate in candidates {
                let url = candidate.appendingPathComponent("DurableProbe")
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
            throw TestEnvironment.Missing(description: "DurableProbe not found next to the test bundle in \(candidates.map(\.path)); "
                + "build it first: swift build --product DurableProbe (swift build --build-tests builds it too)")
        }
    }

    init(port: Int, filter: String, clientID: String, journal: String) throws {
        try? FileManager.default.removeItem(atPath: journal + ".ready")
        process = Process()
        process.executableURL = try DurableProbeProcess.executable
        process.arguments = ["127.0.0.1", String(port), filter, clientID, journal]
        try process.run()
    }

    /// SIGKILL: no cleanup, no DISCONNECT, whatever was in user-space buffers is gone.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite("Durable consumer")
struct DurableConsumerTests {
    @Test func sigkilledConsumerLosesNoMessage() async throws {
        let broker = try await TestBroker()
        let topic = TestEnvironment.uniqueName() + "/seq"
        let journal = broker.directory.appendingPathComponent("probe.journal").path
        let clientID = TestEnvironment.uniqueName("probe", separator: "-")
        let total = 2000

        let first = try DurableProbeProcess(port: broker.port, filter: topic, clientID: clientID, journal: journal)
        try await poll("probe subscribed") { FileManager.default.fileExists(atPath: journal + ".ready") }

        let publisher = try MQTTClient(configuration: .init(host: "127.0.0.1", port: broker.port,
                                                            clientID: TestEnvironment.uniqueName("pub", separator: "-")))
        try await publisher.connect()
        let publishing = Task {
            for sequence in 0..<total {
                try await publisher.publish(topic: topic, payload: Array(String(sequence).utf8), qos: .atLeastOnce)
            }
        }
        // Kill while messages are flowing: some journaled, some in flight, the rest still to be published.
        try await poll("probe mid-stream", timeout: .seconds(20), interval: .milliseconds(2)) {
            try MessageJournal.records(atPath: journal).count >= total / 5
        }
        first.kill()
        let atKill = try MessageJournal.records(atPath: journal).count
        try await publishing.value

        let second = try DurableProbeProcess(port: broker.port, filter: topic, clientID: clientID, journal: journal)
        defer { second.kill() }
        var sequences = Set<Int>()
        do {
            try await poll("all \(total) sequence numbers journaled", timeout: .seconds(30), interval: .milliseconds(50)) {
                sequences = Set(try MessageJournal.records(atPath: journal).compactMap { Int(String(decoding: $0.message.payload, as: UTF8.self)) })
                return sequences.count == total
            }
        } catch {
            let missing = Set(0..<total).subtracting(sequences).sorted()
            Issue.record("missing \(missing.count) of \(total) (first: \(missing.prefix(10))); \(atKill) were journaled at the kill")
            throw error
        }
        #expect(atKill < total, "the kill happened mid-stream")
        #expect(sequences == Set(0..<total))
        await publisher.disconnect()
    }

    @Test func durableHandlerRunsBeforeAcknowledgementAndFailureCausesRedelivery() async throws {
        let broker = try await TestBroker()
        let topic = TestEnvironment.uniqueName() + "/seq"
        let attempts = LockedValue<[String]>([])
        var config = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: TestEnvironment.uniqueName("dur", separator: "-"))
        config.makePersistent(sessionExpiry: 60)
        config.reconnect = .init(minimumDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
        struct DiskFull: Error {}
        let consumer = try MQTTClient(configuration: config) { message in
            let text = String(decoding: message.payload, as: UTF8.self)
            // The first delivery of "b" fails, as a full disk would.
            let failNow = attempts.withLock { seen in
                seen.append(text)
                return text == "b" && seen.filter { $0 == "b" }.count == 1
            }
            if failNow { throw DiskFull() }
        }
        try await consumer.connect()
        try await consumer.subscribe(to: topic, qos: .atLeastOnce)
        let publisher = try MQTTClient(configuration: .init(host: "127.0.0.1", port: broker.port, clientID: TestEnvironment.uniqueName("pub", separator: "-")))
        try await publisher.connect()
        for text in ["a", "b", "c"] { try await publisher.publish(topic: topic, payload: Array(text.utf8), qos: .atLeastOnce) }
        try await poll("b redelivered after the handler failed") {
            attempts.value.filter { $0 == "b" }.count >= 2 && attempts.value.contains("c")
        }
        await consumer.disconnect()
        await publisher.disconnect()
    }
}
