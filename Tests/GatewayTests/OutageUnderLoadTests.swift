import Foundation
import MQTT
import Modbus
import Sparkplug
import Testing
import TestSupport

@testable import Gateway

/// Issue 4's store-and-forward acceptance test: the broker stopped for 30 s while the gateway polls ten
/// devices, 51 tags each, every 100 ms, then restarted.
///
/// What makes "every sample" checkable: each device's `count` register goes up by one on every read (the
/// gateway is its only reader), so every poll of every device yields the next integer, and report by exception
/// sends each one. Per device, the values received must therefore be consecutive: any sample lost, replayed
/// twice or replayed out of order shows as a gap, a repeat or a step back. The gateway's own counter of
/// spooled payloads must equal the historical DDATA received.
@Suite(.serialized) struct OutageUnderLoadTests {
    static let devices = 10
    static let churnTags = 50
    static let outage = Duration.seconds(30)

    static func yaml(group: String, ports: [Int], primaryHost: String) -> String {
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
        var text = """
            groupId: \(group)
            edgeNodeId: edge-1
            primaryHostId: \(primaryHost)
            spool: {path: \(spool), maxMessages: 100000, replayRate: 2000}
            pollGroups:
              - {name: fast, interval: 100ms}
            devices:

            """
        for (index, port) in ports.enumerated() {
            text += """
                  - name: machine-\(index)
                    host: 127.0.0.1
                    port: \(port)
                    timeout: 1s
                    retries: 2
                    tags:
                      - {name: count, address: 40002, type: uint32}

                """
            for register in 0..<churnTags {
                text += "      - {name: t\(register), address: \(40011 + register), type: int16}\n"
            }
        }
        return text
    }

    /// One `count` sample as the host received it.
    struct Sample: Equatable {
        var value: UInt32
        var historical: Bool
        var timestamp: UInt64
    }

    @Test func brokerStoppedForThirtySecondsUnderLoad() async throws {
        let broker = try OwnBroker(persistent: false)
        try await broker.start()
        var servers: [(TestDevice, ModbusTCPServer)] = []
        for _ in 0..<Self.devices {
            let (device, server) = try await TestDevice.start()
            device.churn.withLock { $0 = Self.churnTags }
            device.counting.withLock { $0 = true }
            servers.append((device, server))
        }
        let group = "gw-load-" + UUID().uuidString.lowercased().prefix(8)
        let host = "host-" + UUID().uuidString.lowercased().prefix(8)
        // The recorder is the primary host: after the restart (no persistence: no session, no retained STATE)
        // the gateway births only once the recorder has resubscribed and said online, so it sees everything.
        let recorder = try await SparkplugRecorder(group: group, host: "127.0.0.1", port: broker.port, primaryHost: host)
        let gateway = try await RunningGateway.start(yaml: Self.yaml(group: group, ports: servers.map(\.1.port), primaryHost: host),
                                                     host: "127.0.0.1", port: broker.port)
        let aliases = try await countAliases(recorder)
        try await TestSupport.poll("startup spool drained", timeout: .seconds(20)) { gateway.service.spoolDepth == 0 }
        let firstBirth = try #require(recorder.seen.value.last { $0.verb == .nbirth })
        let oldBdSeq = try #require(firstBirth.payload.metrics.first { $0.name == "bdSeq" }?.value)

        // Refused connect attempts during the outage, seen on the gateway's own MQTT client.
        let refusals = LockedValue(0)
        let watcher = Task {
            for await event in gateway.service.client.connectionEvents() {
                if case .disconnected(let error?) = event, error.code == .connectFailed { refusals.withLock { $0 += 1 } }
            }
        }
        let outageStart = recorder.count
        let spooledBefore = gateway.service.counters.spooled
        try await broker.stop()
        try await TestSupport.poll("gateway to notice the outage") { !gateway.service.machine.withLock { $0.isConnected } }
        // The outage itself is the scenario, not a readiness wait.
        try await Task.sleep(for: Self.outage)
        try await broker.start()

        try await TestSupport.poll("second NBIRTH", timeout: .seconds(60)) {
            recorder.seen.value[outageStart...].contains { $0.verb == .nbirth }
        }
        try await TestSupport.poll("spool replayed", timeout: .seconds(60)) { gateway.service.spoolDepth == 0 }
        // Everything spooled from the outage until the new births (the reconnect waits out its backoff).
        let spooled = Int(gateway.service.counters.spooled - spooledBefore)
        let afterReplay = recorder.count
        // Live data goes on after the replay: every device sends a few more live samples.
        try await TestSupport.poll("live data after the replay", timeout: .seconds(10)) {
            let later = recorder.seen.value[afterReplay...]
            return aliases.allSatisfy { device, alias in
                later.filter { $0.verb == .ddata && $0.device == device }.flatMap(\.metrics)
                    .filter { $0.alias == alias && !$0.isHistorical }.count >= 3
            }
        }
        watcher.cancel()
        try await gateway.stop()
        let ndeath = try await recorder.wait(for: "NDEATH on stop", after: afterReplay) { $0.verb == .ndeath }

        let seen = recorder.seen.value
        #expect(recorder.unresolved.value.isEmpty)
        // bdSeq: several refused attempts, yet exactly one new connection, so previous + 1; the Will (the
        // NDEATH of the graceful stop) carries the same value as the NBIRTH of that connection.
        let rebirthIndex = try #require(seen.indices.first { $0 >= outageStart && seen[$0].verb == .nbirth })
        let newBdSeq = try #require(seen[rebirthIndex].payload.metrics.first { $0.name == "bdSeq" }?.value)
        #expect(refusals.value >= 3, "the gateway should have retried several times during the outage")
        guard case .int64(let old) = oldBdSeq else { Issue.record("bdSeq is not Int64: \(oldBdSeq)"); return }
        #expect(newBdSeq == .int64((old + 1) % 256))
        #expect(ndeath.payload.metrics.first?.value == newBdSeq)

        func counts(_ messages: ArraySlice<Seen>, device: String, alias: UInt64) -> [Sample] {
            messages.filter { $0.verb == .ddata && $0.device == device }.flatMap(\.metrics)
                .filter { $0.alias == alias }.compactMap { metric in
                    guard case .uint32(let value)? = metric.value, let time = metric.timestamp else { return nil }
                    return Sample(value: value, historical: metric.isHistorical, timestamp: time)
                }
        }
        /// True when `values` are consecutive integers (nothing missing, repeated or out of order).
        func consecutive(_ values: [UInt32]) -> Bool { zip(values, values.dropFirst()).allSatisfy { $1 == $0 + 1 } }

        let historicalMessages = seen[rebirthIndex...].filter { $0.verb == .ddata && $0.metrics.contains(where: \.isHistorical) }
        var historicalSamples = 0
        for (device, alias) in aliases.sorted(by: { $0.key < $1.key }) {
            let before = counts(seen[..<rebirthIndex], device: device, alias: alias)
            let after = counts(seen[rebirthIndex...], device: device, alias: alias)
            let historical = after.filter(\.historical)
            let live = after.filter { !$0.historical }
            historicalSamples += historical.count
            guard let lastLive = before.last(where: { !$0.historical })?.value, let first = historical.first?.value,
                  let last = historical.last?.value, let firstLive = live.first?.value
            else {
                Issue.record("\(device): no samples before, during or after the outage")
                continue
            }
            #expect(!before.contains { $0.historical && $0.value > lastLive }, "\(device): outage sample sent before the new session")
            // 30 s at 100 ms: about 300 polls of this device while the broker was away.
            #expect(historical.count >= 200, "\(device): only \(historical.count) samples spooled in 30 s")
            // The whole outage exactly once, in the order taken: consecutive values, timestamps not going back.
            #expect(consecutive(historical.map(\.value)),
                    "\(device): historical samples \(first)…\(last) have gaps, repeats or reorderings (\(historical.count) received)")
            #expect(historical.map(\.timestamp) == historical.map(\.timestamp).sorted())
            // Nothing lost where the session came back: the first live sample after the births is the next one,
            // and live data goes on without gaps.
            #expect(firstLive == last + 1, "\(device): live data resumed at \(firstLive) after historical \(last)")
            #expect(consecutive(live.map(\.value)), "\(device): live samples after the outage missing or repeated")
            // Where the broker vanished, a QoS 0 DDATA already written to the dying socket (or still inside the
            // broker) can be lost: at most one poll per device; none is ever sent twice.
            #expect(first > lastLive && first - lastLive <= 2, "\(device): \(Int(first) - Int(lastLive) - 1) samples lost as the broker stopped")
        }
        // The gateway's own accounting: every payload it spooled arrived as historical DDATA, once.
        #expect(historicalMessages.count == spooled, "spooled \(spooled), received \(historicalMessages.count) historical DDATA")
        #expect(historicalSamples == spooled)

        await recorder.stop()
        for (_, server) in servers { await server.close() }
        try await broker.stop()
    }

    /// Waits for every device's DBIRTH and returns the alias of its `count` metric.
    func countAliases(_ recorder: SparkplugRecorder) async throws -> [String: UInt64] {
        try await TestSupport.poll("DBIRTH of all \(Self.devices) devices", timeout: .seconds(60)) {
            Set(recorder.seen.value.filter { $0.verb == .dbirth }.compactMap(\.device)).count == Self.devices
        }
        var aliases: [String: UInt64] = [:]
        for birth in recorder.seen.value where birth.verb == .dbirth {
            if let device = birth.device, let alias = birth.payload.metrics.first(where: { $0.name == "count" })?.alias {
                aliases[device] = alias
            }
        }
        return aliases
    }
}
