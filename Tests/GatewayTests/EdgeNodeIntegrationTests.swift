import Foundation
import Modbus
import Sparkplug
import Testing
import TestSupport

@testable import Gateway

/// The gateway against a real mosquitto (MQTT_HOST/MQTT_PORT) and an in-process Modbus device, observed the
/// way a Sparkplug host observes it. Each test uses its own group id.
@Suite(.serialized) struct EdgeNodeIntegrationTests {
    static func newGroup() -> String { "gw-test-" + UUID().uuidString.lowercased().prefix(8) }

    @Test func birthDataDeathCycle() async throws {
        let (host, port) = try broker()
        let (device, server) = try await TestDevice.start()
        device.setRegister(0, 215)  // 21.5 °C
        device.setRegister(1, 0x0001)
        device.setRegister(2, 0x0002)
        let group = Self.newGroup()
        let recorder = try await SparkplugRecorder(group: group, host: host, port: port)
        let gateway = try await RunningGateway.start(yaml: gatewayYAML(group: group, port: server.port), host: host, port: port)

        let dbirth = try await recorder.wait(for: "DBIRTH") { $0.verb == .dbirth }
        let all = recorder.seen.value
        // NBIRTH is the first message of the session, seq 0, with bdSeq and Node Control/Rebirth = false.
        let nbirth = try #require(all.first)
        #expect(nbirth.verb == .nbirth)
        #expect(nbirth.payload.seq == 0)
        let bdSeq = try #require(nbirth.payload.metrics.first { $0.name == "bdSeq" }?.value)
        #expect(nbirth.payload.metrics.first { $0.name == "Node Control/Rebirth" }?.value == .boolean(false))
        #expect(nbirth.payload.metrics.first { $0.name == "Node Control/Rebirth" }?.alias == nil)
        // DBIRTH: seq 1, every tag with name, alias, datatype, value, unit, asset path, quality.
        #expect(dbirth.device == "machine-1")
        #expect(dbirth.payload.seq == 1)
        let names = dbirth.payload.metrics.compactMap(\.name)
        #expect(names == ["temperature", "count", "setpoint", "run"])
        let temperature = try #require(dbirth.payload.metrics.first { $0.name == "temperature" })
        #expect(temperature.datatype == .double && temperature.value == .double(21.5))
        #expect(temperature.properties?.engineeringUnit == "°C")
        #expect(temperature.properties?.quality == .good)
        #expect(temperature.properties?["asset"]?.value == .string("acme/dresden/body-shop/line-1/machine-1"))
        #expect(dbirth.payload.metrics.first { $0.name == "count" }?.value == .uint32(0x0001_0002))
        let aliases = (nbirth.payload.metrics + dbirth.payload.metrics).compactMap(\.alias)
        #expect(Set(aliases).count == aliases.count)

        // A register change reaches the broker as DDATA, alias only.
        let before = recorder.count
        device.setRegister(0, 230)
        let ddata = try await recorder.wait(for: "DDATA with 23.0", after: before) { seen in
            seen.verb == .ddata && seen.metrics.contains { $0.name == "temperature" && $0.value == .double(23.0) }
        }
        let metric = try #require(ddata.payload.metrics.first { $0.alias == temperature.alias })
        #expect(metric.name == nil && metric.datatype == nil)
        #expect(metric.timestamp != nil && ddata.payload.timestamp != nil)
        // One seq per node: every message after NBIRTH is previous + 1.
        let seqs = recorder.seen.value.filter { $0.verb != .ndeath }.compactMap(\.payload.seq)
        #expect(seqs == Array(0..<UInt64(seqs.count)).map { $0 % 256 })

        // Graceful stop: NDEATH with the NBIRTH's bdSeq and no seq.
        try await gateway.stop()
        let ndeath = try await recorder.wait(for: "NDEATH") { $0.verb == .ndeath }
        #expect(ndeath.payload.metrics.map(\.name) == ["bdSeq"])
        #expect(ndeath.payload.metrics.first?.value == bdSeq)
        #expect(ndeath.payload.seq == nil)
        #expect(recorder.unresolved.value.isEmpty)
        await recorder.stop()
        await server.close()
    }

    @Test func seqWrapsFrom255To0OnTheWire() async throws {
        let (host, port) = try broker()
        let (device, server) = try await TestDevice.start()
        device.counting.withLock { $0 = true }
        let group = Self.newGroup()
        let recorder = try await SparkplugRecorder(group: group, host: host, port: port)
        let gateway = try await RunningGateway.start(yaml: gatewayYAML(group: group, port: server.port, interval: "2ms"),
                                                     host: host, port: port)
        try await recorder.wait(for: "300 messages", timeout: .seconds(30)) { _ in recorder.count >= 300 }
        try await gateway.stop()
        let seqs = recorder.seen.value.filter { $0.verb != .ndeath }.compactMap(\.payload.seq)
        #expect(seqs.first == 0)
        #expect(seqs.contains(255))
        // Every message is the previous + 1 (mod 256): 255 is followed by 0.
        #expect(zip(seqs, seqs.dropFirst()).allSatisfy { SequenceNumber.follows($0, $1) })
        #expect(recorder.unresolved.value.isEmpty)
        await recorder.stop()
        await server.close()
    }

    @Test func rebirthOnNCMD() async throws {
        let (host, port) = try broker()
        let (_, server) = try await TestDevice.start()
        let group = Self.newGroup()
        let recorder = try await SparkplugRecorder(group: group, host: host, port: port)
        let gateway = try await RunningGateway.start(yaml: gatewayYAML(group: group, port: server.port), host: host, port: port)
        let first = try await recorder.wait(for: "NBIRTH") { $0.verb == .nbirth }
        try await recorder.wait(for: "DBIRTH") { $0.verb == .dbirth }
        let before = recorder.count
        try await recorder.command(.ncmd, edge: "edge-1", metrics: [
            Metric(name: "Node Control/Rebirth", timestamp: EdgeNodeService.now(), datatype: .boolean, value: .boolean(true)),
        ])
        let second = try await recorder.wait(for: "second NBIRTH", after: before) { $0.verb == .nbirth }
        #expect(second.payload.seq == 0)
        #expect(second.payload.metrics.first { $0.name == "bdSeq" }?.value
                == first.payload.metrics.first { $0.name == "bdSeq" }?.value)
        let dbirth = try await recorder.wait(for: "DBIRTH after rebirth", after: before) { $0.verb == .dbirth }
        #expect(dbirth.payload.seq == 1)
        try await gateway.stop()
        await recorder.stop()
        await server.close()
    }

    @Test func dcmdWritesReachTheDeviceAndBadWritesDoNot() async throws {
        let (host, port) = try broker()
        let (device, server) = try await TestDevice.start()
        let group = Self.newGroup()
        let recorder = try await SparkplugRecorder(group: group, host: host, port: port)
        let gateway = try await RunningGateway.start(yaml: gatewayYAML(group: group, port: server.port), host: host, port: port)
        let dbirth = try await recorder.wait(for: "DBIRTH") { $0.verb == .dbirth }
        let setpointAlias = try #require(dbirth.payload.metrics.first { $0.name == "setpoint" }?.alias)

        // Out of range (max 400): rejected, the register stays untouched.
        try await recorder.command(.dcmd, edge: "edge-1", device: "machine-1", metrics: [
            Metric(alias: setpointAlias, datatype: .double, value: .double(999)),
        ])
        // In range, by name: written with FC 6 and confirmed by DDATA.
        let before = recorder.count
        try await recorder.command(.dcmd, edge: "edge-1", device: "machine-1", metrics: [
            Metric(name: "setpoint", datatype: .double, value: .double(31.5)),
            Metric(name: "run", datatype: .boolean, value: .boolean(true)),
        ])
        let confirmed = try await recorder.wait(for: "DDATA confirming the write", after: before) { seen in
            seen.verb == .ddata && seen.metrics.contains { $0.alias == setpointAlias && $0.value == .double(31.5) }
        }
        #expect(confirmed.device == "machine-1")
        #expect(device.register(4) == 315)
        try await TestSupport.poll("coil written") { device.coil(0) }
        #expect(!device.requests.withLock { $0 }.contains(.writeSingleRegister(address: 4, value: 9990)))
        #expect(device.requests.withLock { $0 }.contains(.writeSingleRegister(address: 4, value: 315)))
        try await gateway.stop()
        await recorder.stop()
        await server.close()
    }

    @Test func deviceOutageGivesDDeathThenDBirth() async throws {
        let (host, port) = try broker()
        let (device, server) = try await TestDevice.start()
        let group = Self.newGroup()
        let recorder = try await SparkplugRecorder(group: group, host: host, port: port)
        let gateway = try await RunningGateway.start(yaml: gatewayYAML(group: group, port: server.port), host: host, port: port)
        try await recorder.wait(for: "DBIRTH") { $0.verb == .dbirth }
        let before = recorder.count
        device.silent.withLock { $0 = true }
        let ddeath = try await recorder.wait(for: "DDEATH", after: before) { $0.verb == .ddeath }
        #expect(ddeath.device == "machine-1" && ddeath.payload.seq != nil && ddeath.payload.timestamp != nil)
        let afterDeath = recorder.count
        device.setRegister(0, 111)
        device.silent.withLock { $0 = false }
        let rebirth = try await recorder.wait(for: "DBIRTH after outage", after: afterDeath) { $0.verb == .dbirth }
        #expect(rebirth.payload.metrics.first { $0.name == "temperature" }?.value == .double(11.1))
        // No DDATA for the device between its DDEATH and the new DBIRTH.
        let between = recorder.seen.value[afterDeath...].prefix { $0.verb != .dbirth }
        #expect(!between.contains { $0.verb == .ddata })
        try await gateway.stop()
        await recorder.stop()
        await server.close()
    }

    @Test func refusedBlockTurnsItsMetricStaleWhileTheDeviceStaysOnline() async throws {
        let (host, port) = try broker()
        let (device, server) = try await TestDevice.start()
        device.setRegister(30, 7)
        let group = Self.newGroup()
        let recorder = try await SparkplugRecorder(group: group, host: host, port: port)
        // `level` lies far from the other tags, so it has its own read (HR 30).
        let yaml = gatewayYAML(group: group, port: server.port, extraTags: "      - {name: level, address: 40031, type: uint16}")
        let gateway = try await RunningGateway.start(yaml: yaml, host: host, port: port)
        let dbirth = try await recorder.wait(for: "DBIRTH") { $0.verb == .dbirth }
        let level = try #require(dbirth.payload.metrics.first { $0.name == "level" })
        #expect(level.value == .uint16(7) && level.properties?.quality == .good)

        let before = recorder.count
        device.refusing.withLock { $0 = [30] }
        let stale = try await recorder.wait(for: "DDATA with level STALE", after: before) { seen in
            seen.verb == .ddata && seen.payload.metrics.contains { $0.alias == level.alias && $0.properties?.quality == .stale }
        }
        // The last value stays, marked stale; the device is not declared dead.
        #expect(stale.metrics.first { $0.name == "level" }?.value == .uint16(7))
        // The other tags still flow.
        let afterStale = recorder.count
        device.setRegister(0, 250)
        try await recorder.wait(for: "temperature still reported", after: afterStale) { seen in
            seen.verb == .ddata && seen.metrics.contains { $0.name == "temperature" && $0.value == .double(25.0) }
        }
        #expect(!recorder.seen.value[before...].contains { $0.verb == .ddeath })

        // Answered again: reported GOOD even though the value did not change.
        let beforeGood = recorder.count
        device.refusing.withLock { $0 = [] }
        let good = try await recorder.wait(for: "DDATA with level GOOD", after: beforeGood) { seen in
            seen.verb == .ddata && seen.payload.metrics.contains { $0.alias == level.alias && $0.properties?.quality == .good }
        }
        #expect(good.metrics.first { $0.name == "level" }?.value == .uint16(7))
        #expect(recorder.unresolved.value.isEmpty)
        try await gateway.stop()
        await recorder.stop()
        await server.close()
    }
}
