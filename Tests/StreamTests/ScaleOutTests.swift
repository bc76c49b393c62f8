import Foundation
import MQTT
import Sparkplug
import StreamCore
import Testing
import TestSupport

/// Several instances on one store, and a killed `stream` process.
@Suite("Stream scale-out and crash recovery", .serialized)
struct ScaleOutTests {
    /// A DDATA of `device` with 10 metrics (aliases 100…109), all at `timestamp`.
    static func ddata(seq: UInt64, timestamp: UInt64) -> Payload {
        Payload(timestamp: timestamp, metrics: (0..<10).map { index in
            Metric(alias: UInt64(100 + index), value: .untyped(.double(Double(timestamp) + Double(index))))
        }, seq: seq)
    }

    static let nbirth = Payload(timestamp: 1, metrics: [
        Metric(name: "bdSeq", datatype: .int64, value: .int64(0)),
        Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(false)),
    ], seq: 0)

    static let dbirth = Payload(timestamp: 1, metrics: (0..<10).map { index in
        Metric(name: "m\(index)", alias: UInt64(100 + index), datatype: .double, value: .double(0))
    } + [Metric(name: "Properties/asset", datatype: .string, value: .string("acme/plant1/area/line/cell"))], seq: 1)

    @Test("one primary and two workers store every sample exactly once")
    func primaryAndWorkers() async throws {
        let primary = try await StreamHarness()
        let workers = [try await StreamHarness(role: .worker, sharing: primary),
                       try await StreamHarness(role: .worker, sharing: primary)]
        let running = [primary.start()] + workers.map { $0.start() }
        let observer = try await primary.client("observer")
        let (seen, collector) = collect(observer)
        defer { collector.cancel() }
        try await observer.subscribe(to: primary.stateTopic)
        try await primary.waitUntilOnline(observer, messages: seen)
        // Workers subscribe on their own; wait until each has stored the births, which every instance sees.
        let edge = try await primary.client("edge")
        try await primary.publish(edge, .nbirth, Self.nbirth)
        try await primary.publish(edge, .dbirth, device: "dev", Self.dbirth)
        try await poll("births stored") { try await primary.counts().samples == 10 }
        let messages = 300
        for index in 0..<messages {
            try await primary.publish(edge, .ddata, device: "dev",
                                      Self.ddata(seq: UInt64(index + 2) % 256, timestamp: UInt64(10_000 + index)))
        }
        try await poll("all samples", timeout: .seconds(20)) {
            try await primary.counts().samples == 10 + messages * 10
        }
        let stored = workers.map { $0.host.metrics.snapshot.samplesStored }
        #expect(stored.allSatisfy { $0 > 0 }, "the workers share the DATA load: \(stored)")
        // The primary tracks every seq but stores only its share of the DATA (plus the births all see).
        let primaryStored = primary.host.metrics.snapshot.samplesStored
        #expect(primaryStored < 10 + messages * 10 * 2 / 3, "the primary stores its share only: \(primaryStored)")
        for (harness, task) in zip([primary] + workers, running).reversed() {
            try await harness.stop(task)
        }
        let store = try await SQLiteTimeSeriesStore.open(path: "\(primary.directory)/stream.db")
        #expect(try await store.counts().samples == 10 + messages * 10)
        await store.close()
    }

    @Test("SIGKILL of the stream process mid-stream, then restart: every sample exactly once")
    func killAndRestart() async throws {
        let broker = try TestEnvironment.mqttBroker()
        let id = String(UUID().uuidString.lowercased().prefix(8))
        let directory = NSTemporaryDirectory() + "stream-kill-\(id)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let arguments = ["--mqtt-url", "mqtt://\(broker.host):\(broker.port)", "--http-port", "0",
                         "--store", "sqlite:\(directory)/stream.db", "--journal", "\(directory)/stream.journal",
                         "--host-id", "kill-\(id)", "--instance", "k-\(id)", "--uns-prefix", "test/\(id)",
                         "--log-level", "warning", "--groups", "kill-\(id)"]
        let group = "kill-\(id)"
        let edge = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port,
                                                                   clientID: "edge-\(id)"))
        try await edge.connect()
        let observer = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port,
                                                                       clientID: "observer-\(id)"))
        try await observer.connect()
        let (seen, collector) = collect(observer)
        defer { collector.cancel() }
        try await observer.subscribe(to: "spBv1.0/STATE/kill-\(id)")
        func online() -> Bool {
            seen.value.last.flatMap { try? HostState(decoding: $0.payload) }?.online == true
        }
        func publish(_ verb: SparkplugTopic.Verb, device: String? = nil, _ payload: Payload) async throws {
            let topic = try SparkplugTopic(group: group, verb: verb, edgeNode: "edge", device: device)
            try await edge.publish(topic: topic.description, payload: payload.encode(), qos: .atLeastOnce)
        }

        var process = try Self.launch(arguments)
        try await poll("stream online", timeout: .seconds(20)) { online() }
        try await publish(.nbirth, Self.nbirth)
        try await publish(.dbirth, device: "dev", Self.dbirth)
        let total = 2_000
        let killAt = 700
        for index in 0..<total {
            if index == killAt {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            if index == killAt + 300 {
                // Messages published while it was dead wait in its persistent session.
                process = try Self.launch(arguments)
            }
            try await publish(.ddata, device: "dev", Self.ddata(seq: UInt64(index + 2) % 256,
                                                                 timestamp: UInt64(100_000 + index)))
        }
        let expected = 10 + total * 10
        let store = try await SQLiteTimeSeriesStore.open(path: "\(directory)/stream.db")
        try await poll("every sample stored", timeout: .seconds(30)) {
            try await store.counts().samples >= expected
        }
        #expect(try await store.counts().samples == expected)
        #expect(try await store.counts().deadLetters == 0)
        let last = try await store.samples(asset: "acme/plant1/area/line/cell", metric: "m9", from: 0,
                                           to: .max, after: nil, limit: 10_000)
        #expect(last.count == total + 1)
        #expect(Set(last.map(\.timestamp)).count == total + 1)
        await store.close()
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    /// Starts the built `stream` executable (next to the test bundle, or in SHOPFLOOR_BIN_DIR).
    static func launch(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent("stream")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for key in ["MQTT_URL", "HTTP_PORT", "STREAM_STORE", "STREAM_ROLE"] { environment[key] = nil }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static var binDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["SHOPFLOOR_BIN_DIR"] {
            return URL(fileURLWithPath: directory)
        }
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("stream").path),
              directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }
}
