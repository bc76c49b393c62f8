import Sparkplug
import Testing
@testable import StreamCore

/// Payloads as an edge node would send them.
enum Edge {
    static let node = EdgeNodeID(group: "plant", edgeNode: "edge-1")

    static func nbirth(bdSeq: Int64 = 0, asset: String? = nil) -> Payload {
        var metrics = [
            Metric(name: "bdSeq", datatype: .int64, value: .int64(bdSeq)),
            Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(false)),
            Metric(name: "Uptime", alias: 1, datatype: .int64, value: .int64(5)),
        ]
        if let asset { metrics.append(Metric(name: "Properties/asset", datatype: .string, value: .string(asset))) }
        return Payload(timestamp: 1_000, metrics: metrics, seq: 0)
    }

    static func dbirth(seq: UInt64, asset: String? = nil, high: Double? = nil) -> Payload {
        var temperature = Metric(name: "temperature", alias: 10, datatype: .double, value: .double(20))
        var properties = PropertySet()
        properties.engineeringUnit = "°C"
        if let high {
            properties["alarmHigh"] = PropertyValue(.double(high))
            properties["alarmHysteresis"] = PropertyValue(.double(2))
        }
        temperature.properties = properties
        var metrics = [temperature, Metric(name: "state", alias: 11, datatype: .string, value: .string("idle"))]
        if let asset { metrics.append(Metric(name: "Properties/asset", datatype: .string, value: .string(asset))) }
        return Payload(timestamp: 1_000, metrics: metrics, seq: seq)
    }

    static func ddata(seq: UInt64, alias: UInt64 = 10, value: Double = 21, timestamp: UInt64 = 2_000) -> Payload {
        Payload(timestamp: timestamp, metrics: [Metric(alias: alias, value: .untyped(.double(value)))], seq: seq)
    }

    static func ndeath(bdSeq: Int64) -> Payload {
        Payload(metrics: [Metric(name: "bdSeq", datatype: .int64, value: .int64(bdSeq))])
    }
}

extension [HostAction] {
    var rebirths: [RebirthReason] {
        compactMap { action -> RebirthReason? in
            guard case .requestRebirth(_, let reason) = action else { return nil }
            return reason
        }
    }
    var samples: [Sample] {
        flatMap { action -> [Sample] in
            guard case .store(let samples) = action else { return [] }
            return samples
        }
    }
    var infos: [SeriesInfo] {
        flatMap { action -> [SeriesInfo] in
            guard case .defineSeries(let infos) = action else { return [] }
            return infos
        }
    }
    var rejected: Bool {
        contains { action in
            guard case .reject = action else { return false }
            return true
        }
    }
    var hasGap: Bool {
        contains { action in
            guard case .sequenceGap = action else { return false }
            return true
        }
    }
    var stale: [SeriesKey] {
        flatMap { action -> [SeriesKey] in
            guard case .markStale(_, _, let series, _) = action else { return [] }
            return series
        }
    }
}

@Suite("Host state machine")
struct HostStateMachineTests {
    /// A born node with device "press" (seq 0 NBIRTH, seq 1 DBIRTH).
    func bornMachine(_ configuration: HostStateMachine.Configuration = .init(reorderTimeout: 1_000,
                                                                            rebirthInterval: 5_000)) -> HostStateMachine {
        var machine = HostStateMachine(configuration: configuration)
        _ = machine.receive(.nbirth, node: Edge.node, device: nil, payload: Edge.nbirth(bdSeq: 3), now: 0)
        _ = machine.receive(.dbirth, node: Edge.node, device: "press", payload: Edge.dbirth(seq: 1), now: 0)
        return machine
    }

    @Test("births define series with unit and asset path and store the birth values")
    func birthDefinesSeries() {
        var machine = HostStateMachine()
        let node = machine.receive(.nbirth, node: Edge.node, device: nil, payload: Edge.nbirth(asset: "acme/p1"), now: 0)
        #expect(node.samples.map(\.series.metric) == ["Uptime"])
        let device = machine.receive(.dbirth, node: Edge.node, device: "press",
                                     payload: Edge.dbirth(seq: 1, asset: "acme/p1/a/l/press", high: 80), now: 0)
        let temperature = device.infos.first { $0.key.metric == "temperature" }
        #expect(temperature?.unit == "°C")
        #expect(temperature?.assetPath == "acme/p1/a/l/press")
        #expect(temperature?.alarm == AlarmLimits(high: 80, low: nil, hysteresis: 2))
        #expect(device.contains(.recordBirth(Edge.node, device: "press")))
    }

    @Test("DATA resolves aliases with the BIRTH's datatype")
    func dataResolvesAliases() {
        var machine = bornMachine()
        let actions = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 2), now: 10)
        #expect(actions.samples == [Sample(series: SeriesKey(node: Edge.node, device: "press", metric: "temperature"),
                                           timestamp: 2_000, value: .number(21))])
        #expect(actions.rebirths.isEmpty)
    }

    @Test("a seq gap requests a rebirth only after the reorder window")
    func seqGapAfterReorderWindow() {
        var machine = bornMachine()
        let gap = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 4), now: 100)
        #expect(gap.contains(.sequenceGap(Edge.node, expected: 2, received: 4)))
        #expect(gap.rebirths.isEmpty)
        #expect(gap.samples.count == 1, "out-of-order data is still stored")
        #expect(machine.tick(now: 1_099).isEmpty)
        #expect(machine.tick(now: 1_100).rebirths == [.sequenceGap])
        #expect(!machine.hasOpenGap(Edge.node))
    }

    @Test("a gap filled within the reorder window requests no rebirth")
    func gapFilledInTime() {
        var machine = bornMachine()
        _ = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 4), now: 100)
        _ = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 2, timestamp: 2_001), now: 200)
        #expect(machine.hasOpenGap(Edge.node))
        _ = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 3, timestamp: 2_002), now: 300)
        #expect(!machine.hasOpenGap(Edge.node))
        #expect(machine.tick(now: 5_000).isEmpty)
    }

    @Test("seq wraps from 255 to 0 without a gap")
    func seqWraps() {
        var machine = bornMachine()
        for seq in UInt64(2)...255 {
            _ = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: seq), now: 10)
        }
        let wrapped = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 0), now: 10)
        #expect(!wrapped.hasGap)
        #expect(!machine.hasOpenGap(Edge.node))
    }

    @Test("an NDEATH with an old bdSeq is ignored; the current one marks node and devices stale")
    func staleNDeathIgnored() {
        var machine = bornMachine()
        let stale = machine.receive(.ndeath, node: Edge.node, device: nil, payload: Edge.ndeath(bdSeq: 2), now: 50)
        #expect(stale.count == 1)
        if case .ignore? = stale.first {} else { Issue.record("expected the stale NDEATH to be ignored: \(stale)") }
        #expect(machine.isOnline(Edge.node))

        let death = machine.receive(.ndeath, node: Edge.node, device: nil, payload: Edge.ndeath(bdSeq: 3), now: 60)
        #expect(!machine.isOnline(Edge.node))
        #expect(Set(death.stale.map(\.description)) == ["plant/edge-1/Uptime", "plant/edge-1/press/temperature",
                                                        "plant/edge-1/press/state"])
    }

    @Test("DDEATH marks the device's series stale at the DDEATH timestamp; its DATA then asks for a rebirth")
    func deviceDeath() {
        var machine = bornMachine()
        let death = machine.receive(.ddeath, node: Edge.node, device: "press",
                                    payload: Payload(timestamp: 7_777, seq: 2), now: 100)
        #expect(death.contains(.markStale(Edge.node, device: "press",
                                          series: [SeriesKey(node: Edge.node, device: "press", metric: "temperature"),
                                                   SeriesKey(node: Edge.node, device: "press", metric: "state")],
                                          at: 7_777)))
        let late = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 3), now: 200)
        #expect(late.rejected)
        #expect(late.rebirths == [.dataBeforeBirth])
    }

    @Test("DATA before any BIRTH is rejected with a rebirth request")
    func dataBeforeBirth() {
        var machine = HostStateMachine()
        let actions = machine.receive(.ndata, node: Edge.node, device: nil, payload: Edge.ddata(seq: 5, alias: 1), now: 0)
        #expect(actions.rejected)
        #expect(actions.rebirths == [.dataBeforeBirth])
    }

    @Test("an unknown alias asks for a rebirth and keeps the known metrics")
    func unknownAlias() {
        var machine = bornMachine()
        var payload = Edge.ddata(seq: 2)
        payload.metrics.append(Metric(alias: 99, value: .untyped(.double(1))))
        let actions = machine.receive(.ddata, node: Edge.node, device: "press", payload: payload, now: 10)
        #expect(actions.samples.count == 1)
        #expect(actions.rejected)
        #expect(actions.rebirths == [.unknownMetric])
    }

    @Test("rebirth requests are rate-limited per node")
    func rebirthRateLimited() {
        var machine = bornMachine()
        let unknown = Payload(timestamp: 1, metrics: [Metric(alias: 99, value: .untyped(.double(1)))])
        #expect(machine.receive(.ddata, node: Edge.node, device: "press", payload: unknown, now: 1_000).rebirths.count == 1)
        #expect(machine.receive(.ddata, node: Edge.node, device: "press", payload: unknown, now: 2_000).rebirths.isEmpty)
        #expect(machine.receiveMalformed(node: Edge.node, reason: "garbage", now: 5_999).rebirths.isEmpty)
        #expect(machine.receiveMalformed(node: Edge.node, reason: "garbage", now: 6_000).rebirths == [.malformedPayload])
    }

    @Test("each NBIRTH resets the aliases")
    func aliasesResetPerBirth() {
        var machine = bornMachine()
        // A new session without the device: alias 10 is gone until the device is born again.
        _ = machine.receive(.nbirth, node: Edge.node, device: nil, payload: Edge.nbirth(bdSeq: 4), now: 100)
        let stale = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 1), now: 110)
        #expect(stale.samples.isEmpty)
        #expect(stale.rejected)
        var rebirth = Edge.dbirth(seq: 1)
        rebirth.metrics[0].alias = 20
        _ = machine.receive(.dbirth, node: Edge.node, device: "press", payload: rebirth, now: 120)
        let old = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 2, alias: 10), now: 130)
        #expect(old.samples.isEmpty)
        let new = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 3, alias: 20), now: 140)
        #expect(new.samples.map(\.series.metric) == ["temperature"])
    }

    @Test("a worker tracks no seq and never requests rebirths")
    func workerNeverRequestsRebirth() {
        var machine = bornMachine(.init(reorderTimeout: 10, rebirthInterval: 0, isPrimary: false))
        let gap = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 9), now: 10)
        #expect(gap.samples.count == 1)
        #expect(machine.tick(now: 10_000).isEmpty)
        #expect(machine.receiveMalformed(node: Edge.node, reason: "x", now: 20).rebirths.isEmpty)
    }

    @Test("a restored node resolves journaled DATA without asking for a rebirth")
    func restoredNode() {
        var machine = HostStateMachine()
        machine.restore(node: Edge.node, birth: Edge.nbirth(bdSeq: 3), deviceBirths: [("press", Edge.dbirth(seq: 1))])
        let actions = machine.receive(.ddata, node: Edge.node, device: "press", payload: Edge.ddata(seq: 77), now: 10)
        #expect(actions.samples.count == 1)
        #expect(actions.rebirths.isEmpty)
        #expect(!actions.hasGap)
    }
}
