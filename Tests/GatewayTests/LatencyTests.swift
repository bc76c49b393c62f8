import Foundation
import Sparkplug
import Testing
import TestSupport

@testable import Gateway

/// Every register change reaches the broker as a DDATA carrying the new, scaled value, end to end (device,
/// poll, state machine, mosquitto, subscriber). It prints the debug build's latency, but the release figures
/// in docs/benchmarks.md come from bench/gateway/latency.sh; speed is not asserted (a loaded CI machine is
/// slow, not wrong).
@Suite(.serialized) struct LatencyTests {
    @Test func everyRegisterChangeArrivesAsDData() async throws {
        let (host, port) = try broker()
        let (device, server) = try await TestDevice.start()
        let group = "gw-lat-" + UUID().uuidString.lowercased().prefix(8)
        let recorder = try await SparkplugRecorder(group: group, host: host, port: port)
        let gateway = try await RunningGateway.start(yaml: gatewayYAML(group: group, port: server.port, interval: "10ms"),
                                                     host: host, port: port)
        try await recorder.wait(for: "DBIRTH") { $0.verb == .dbirth }
        var samples: [Duration] = []
        let clock = ContinuousClock()
        for value in 1...100 {
            let raw = UInt16(value * 3)
            let start = clock.now
            device.setRegister(0, raw)
            let expected = MetricValue.double(Double(raw) / 10)
            let seen = try await recorder.wait(for: "DDATA \(value)") { seen in
                seen.verb == .ddata && seen.metrics.contains { $0.name == "temperature" && $0.value == expected }
            }
            samples.append(seen.received - start)
        }
        samples.sort()
        let p50 = samples[samples.count / 2], p99 = samples[samples.count * 99 / 100]
        print("register change → DDATA over 100 changes, 10 ms poll interval: p50 \(p50), p99 \(p99)")
        #expect(samples.count == 100)
        try await gateway.stop()
        await recorder.stop()
        await server.close()
    }
}
