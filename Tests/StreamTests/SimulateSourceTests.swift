import Foundation
import MQTT
import Sparkplug
import StreamCore
import Testing
import TestSupport

/// `simulate --sparkplug` as the edge, end to end: its edge nodes → mosquitto → stream → store.
@Suite("Stream with simulate --sparkplug as the source")
struct SimulateSourceTests {
    /// (edge node, device, alias, timestamp): one stored sample each.
    struct Key: Hashable {
        var node: String
        var device: String
        var alias: UInt64
        var timestamp: UInt64
    }

    @Test("every value simulate publishes is stored exactly once, with no seq gap and no dead letter")
    func simulateToStore() async throws {
        let harness = try await StreamHarness()
        try await harness.run { harness in
            let observer = try await harness.client("observer")
            let (seen, collector) = collect(observer)
            defer { collector.cancel() }
            try await observer.subscribe(to: harness.stateTopic)
            try await observer.subscribe(to: "spBv1.0/\(harness.group)/#")
            try await harness.waitUntilOnline(observer, messages: seen)

            let simulate = Process()
            simulate.executableURL = ScaleOutTests.binDirectory.appendingPathComponent("simulate")
            simulate.arguments = ["--sparkplug", "--group", harness.group, "--nodes", "2", "--devices", "2",
                                  "--metrics", "3", "--rate", "40", "--duration", "1.5", "--http-port", "0"]
            var environment = ProcessInfo.processInfo.environment
            environment["MQTT_URL"] = "mqtt://\(harness.broker.host):\(harness.broker.port)"
            simulate.environment = environment
            simulate.standardOutput = FileHandle.nullDevice
            simulate.standardError = FileHandle.nullDevice
            try simulate.run()
            try await poll("simulate finished", timeout: .seconds(20)) { !simulate.isRunning }
            #expect(simulate.terminationStatus == 0)

            // What simulate put on the wire, as the observer saw it: every BIRTH and DATA value.
            try await poll("both NDEATHs seen") {
                seen.value.filter { $0.topic.contains("/NDEATH/") }.count == 2
            }
            var expected = Set<Key>()
            var dataMessages = 0
            for message in seen.value {
                guard let topic = SparkplugTopic(parsing: message.topic),
                      case .edge(_, let verb, let node, let device?) = topic.kind,
                      verb == .dbirth || verb == .ddata else { continue }
                if verb == .ddata { dataMessages += 1 }
                let payload = try Payload(decoding: message.payload)
                for metric in payload.metrics {
                    let alias = try #require(metric.alias)
                    let timestamp = try #require(metric.timestamp ?? payload.timestamp)
                    expected.insert(Key(node: node, device: device, alias: alias, timestamp: timestamp))
                }
            }
            #expect(dataMessages > 20, "simulate published DDATA: \(dataMessages)")
            try await poll("every value stored", timeout: .seconds(20)) {
                try await harness.counts().samples == expected.count
            }
            let counts = try await harness.counts()
            #expect(counts.series == 2 * 2 * 3)
            #expect(counts.deadLetters == 0)
            #expect(harness.host.metrics.snapshot.sequenceGaps == 0)
            #expect(harness.host.metrics.snapshot.rebirthsRequested == 0)
        }
    }
}
