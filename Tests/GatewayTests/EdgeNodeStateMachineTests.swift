import Sparkplug
import Testing

@testable import Gateway

/// The Sparkplug B 3.0 edge-node rules, checked on the state machine alone (no broker).
@Suite struct EdgeNodeStateMachineTests {
    static func machine() -> EdgeNodeStateMachine {
        EdgeNodeStateMachine(devices: [
            .init(name: "press-1", assetPath: "acme/dresden/body-shop/line-1/press-1", metrics: [
                ("temperature", .double, "°C", 0.5), ("state", .uint16, nil, 0),
            ]),
            .init(name: "cnc-1", assetPath: nil, metrics: [("speed", .uint16, "rpm", 0)]),
        ])
    }

    static func payload(_ action: EdgeNodeStateMachine.Action) -> Payload {
        switch action {
        case .publishNBirth(let p), .publishNData(let p): p
        case .publishDBirth(_, let p), .publishDData(_, let p), .publishDDeath(_, let p), .spool(_, let p): p
        case .reconnectForPrimaryHost: Payload()
        }
    }

    /// One accepted connection: the Will offered, the CONNACK, the session.
    static func connect(_ machine: inout EdgeNodeStateMachine, now: UInt64 = 0) -> [EdgeNodeStateMachine.Action] {
        _ = machine.nextWill()
        machine.connectionAccepted()
        return machine.connected(now: now)
    }

    static func bdSeq(_ payload: Payload) -> MetricValue? { payload.metrics.first { $0.name == "bdSeq" }?.value }

    @Test func bdSeqAdvancesOncePerAcceptedConnectionNotPerAttempt() {
        var machine = Self.machine()
        let first = machine.nextWill()
        #expect(first.metrics == [Metric(name: "bdSeq", datatype: .int64, value: .int64(0))])
        #expect(first.seq == nil)
        // Refused attempts (broker down) offer the same value again.
        #expect(Self.bdSeq(machine.nextWill()) == .int64(0))
        #expect(Self.bdSeq(machine.nextWill()) == .int64(0))
        machine.connectionAccepted()
        guard case .publishNBirth(let nbirth)? = machine.connected(now: 1).first else { Issue.record("no NBIRTH"); return }
        #expect(Self.bdSeq(nbirth) == .int64(0))
        #expect(Self.bdSeq(machine.death) == .int64(0))
        machine.disconnected()
        // An outage with five refused attempts, then a connection: exactly previous + 1.
        for _ in 0..<5 { #expect(Self.bdSeq(machine.nextWill()) == .int64(1)) }
        machine.connectionAccepted()
        guard case .publishNBirth(let second)? = machine.connected(now: 2).first else { Issue.record("no NBIRTH"); return }
        #expect(Self.bdSeq(second) == .int64(1))
        for _ in 0..<254 {
            _ = machine.nextWill()
            machine.connectionAccepted()
        }
        #expect(Self.bdSeq(machine.nextWill()) == .int64(0))  // 255 wraps to 0
    }

    @Test func nbirthComesFirstThenDBirthsOfAnsweringDevices() throws {
        var machine = Self.machine()
        _ = Self.connect(&machine)
        machine.disconnected()
        _ = machine.nextWill()
        machine.connectionAccepted()
        // Device answered before the broker session existed: its samples are spooled, not published.
        let offline = machine.samples(device: 0, [(0, .double(20)), (1, .uint16(1))], now: 5)
        guard case .spool("press-1", let spooled)? = offline.first, offline.count == 1 else {
            Issue.record("expected the offline samples to be spooled, got \(offline)")
            return
        }
        #expect(spooled.metrics.count == 2 && spooled.seq == nil)
        let actions = machine.connected(now: 10)
        #expect(actions.count == 2)
        guard case .publishNBirth(let nbirth) = actions[0], case .publishDBirth("press-1", let dbirth) = actions[1] else {
            Issue.record("expected NBIRTH then DBIRTH, got \(actions)")
            return
        }
        #expect(nbirth.seq == 0)
        #expect(nbirth.timestamp == 10)
        let bdSeq = try #require(nbirth.metrics.first { $0.name == "bdSeq" })
        #expect(bdSeq.value == .int64(1) && bdSeq.datatype == .int64)
        let rebirth = try #require(nbirth.metrics.first { $0.name == "Node Control/Rebirth" })
        #expect(rebirth.value == .boolean(false) && rebirth.alias == nil && rebirth.datatype == .boolean)
        #expect(nbirth.metrics.allSatisfy { $0.timestamp != nil })
        #expect(dbirth.seq == 1)
        let temperature = try #require(dbirth.metrics.first { $0.name == "temperature" })
        #expect(temperature.datatype == .double && temperature.value == .double(20))
        #expect(temperature.properties?.engineeringUnit == "°C")
        #expect(temperature.properties?.quality == .good)
        #expect(temperature.properties?["asset"]?.value == .string("acme/dresden/body-shop/line-1/press-1"))
        // Aliases are unique across the node and its devices.
        let aliases = nbirth.metrics.compactMap(\.alias) + dbirth.metrics.compactMap(\.alias)
        #expect(Set(aliases).count == aliases.count)
    }

    @Test func dataIsReportedByExceptionWithDeadbandAndAliasOnly() throws {
        var machine = Self.machine()
        _ = machine.nextWill()
        _ = machine.connected(now: 1)
        let birth = machine.samples(device: 0, [(0, .double(20)), (1, .uint16(1))], now: 2)
        guard case .publishDBirth(_, let dbirth)? = birth.first else { Issue.record("no DBIRTH: \(birth)"); return }
        #expect(dbirth.seq == 1)
        #expect(machine.samples(device: 0, [(0, .double(20.4)), (1, .uint16(1))], now: 3).isEmpty)  // within 0.5
        let data = machine.samples(device: 0, [(0, .double(20.6)), (1, .uint16(1))], now: 4)
        guard case .publishDData("press-1", let ddata)? = data.first else { Issue.record("no DDATA: \(data)"); return }
        #expect(ddata.seq == 2)
        let alias = try #require(dbirth.metrics.first { $0.name == "temperature" }?.alias)
        #expect(ddata.metrics == [Metric(alias: alias, timestamp: 4, value: .double(20.6))])
        #expect(ddata.metrics[0].name == nil && ddata.metrics[0].datatype == nil)
    }

    @Test func seqIsSharedByAllMessagesAndWraps() {
        var machine = Self.machine()
        _ = machine.nextWill()
        _ = machine.connected(now: 0)  // NBIRTH seq 0
        _ = machine.samples(device: 1, [(0, .uint16(0))], now: 0)  // DBIRTH seq 1
        var seqs: [UInt64] = []
        for value in 1...300 {
            for action in machine.samples(device: 1, [(0, .uint16(UInt16(value)))], now: 0) {
                seqs.append(Self.payload(action).seq ?? 999)
            }
        }
        #expect(seqs.prefix(3) == [2, 3, 4])
        #expect(seqs[253] == 255 && seqs[254] == 0)
    }

    @Test func deviceOutageGivesDDeathThenDBirth() throws {
        var machine = Self.machine()
        _ = machine.nextWill()
        _ = machine.connected(now: 0)
        _ = machine.samples(device: 0, [(0, .double(1)), (1, .uint16(1))], now: 0)
        let death = machine.deviceFailed(device: 0, now: 5)
        guard case .publishDDeath("press-1", let ddeath)? = death.first else { Issue.record("no DDEATH"); return }
        #expect(ddeath.seq == 2 && ddeath.timestamp == 5 && ddeath.metrics.isEmpty)
        #expect(machine.deviceFailed(device: 0, now: 6).isEmpty)  // only one DDEATH
        let again = machine.samples(device: 0, [(0, .double(1))], now: 7)
        guard case .publishDBirth("press-1", let dbirth)? = again.first else { Issue.record("no DBIRTH"); return }
        #expect(dbirth.seq == 3)
        // A metric not read yet is declared null, quality bad.
        let state = try #require(dbirth.metrics.first { $0.name == "state" })
        #expect(state.isNull && state.value == nil && state.datatype == .uint16 && state.properties?.quality == .bad)
    }

    @Test func rebirthKeepsBdSeqAndRestartsSeq() throws {
        var machine = Self.machine()
        _ = Self.connect(&machine)
        machine.disconnected()
        _ = Self.connect(&machine)  // bdSeq 1
        _ = machine.samples(device: 0, [(0, .double(1)), (1, .uint16(1))], now: 0)
        _ = machine.samples(device: 0, [(0, .double(9)), (1, .uint16(1))], now: 0)
        let actions = machine.rebirth(now: 1)
        #expect(actions.count == 2)
        let nbirth = Self.payload(actions[0])
        #expect(nbirth.seq == 0 && nbirth.metrics.first { $0.name == "bdSeq" }?.value == .int64(1))
        #expect(Self.payload(actions[1]).seq == 1)
        #expect(Self.payload(actions[1]).metrics.first { $0.name == "temperature" }?.value == .double(9))
    }

    @Test func offlineDataIsSpooledHistoricalAndReplayedWithFreshSeq() throws {
        var machine = Self.machine()
        _ = machine.nextWill()
        _ = machine.connected(now: 0)
        _ = machine.samples(device: 1, [(0, .uint16(1))], now: 0)
        machine.disconnected()
        let spooled = machine.samples(device: 1, [(0, .uint16(2))], now: 50)
        guard case .spool("cnc-1", let payload)? = spooled.first else { Issue.record("not spooled: \(spooled)"); return }
        #expect(payload.seq == nil && payload.metrics.allSatisfy(\.isHistorical) && payload.metrics[0].timestamp == 50)
        #expect(machine.replay(device: "cnc-1", payload, now: 60) == nil)  // offline: keep it
        _ = machine.nextWill()
        let births = machine.connected(now: 100)
        #expect(births.count == 2)
        guard case .publishDData("cnc-1", let replayed)? = machine.replay(device: "cnc-1", payload, now: 101) else {
            Issue.record("no replay")
            return
        }
        #expect(replayed.seq == 2 && replayed.metrics[0].isHistorical && replayed.metrics[0].timestamp == 50)
    }

    @Test func refusedReadTurnsTheMetricStaleThenGoodAgain() throws {
        var machine = Self.machine()
        _ = Self.connect(&machine)
        _ = machine.samples(device: 0, [(0, .double(20)), (1, .uint16(3))], now: 1)  // DBIRTH
        // The device answers but refuses the block of `state`: DDATA with its last value, quality STALE.
        let refused = machine.samples(device: 0, [(0, .double(20))], failed: [1], now: 2)
        guard case .publishDData("press-1", let stale)? = refused.first, refused.count == 1 else {
            Issue.record("expected one DDATA, got \(refused)")
            return
        }
        let alias = machine.devices[0].metrics[1].alias
        #expect(stale.metrics.count == 1)
        #expect(stale.metrics[0].alias == alias && stale.metrics[0].value == .uint16(3) && stale.metrics[0].timestamp == 2)
        #expect(stale.metrics[0].properties?.quality == .stale)
        // Still refused: nothing new to say.
        #expect(machine.samples(device: 0, [(0, .double(20))], failed: [1], now: 3).isEmpty)
        // A rebirth declares it stale too.
        let births = machine.rebirth(now: 4)
        let dbirth = Self.payload(births[1])
        #expect(dbirth.metrics.first { $0.name == "state" }?.properties?.quality == .stale)
        // Read again, same value: reported anyway, quality GOOD.
        let back = machine.samples(device: 0, [(0, .double(20)), (1, .uint16(3))], now: 5)
        guard case .publishDData(_, let good)? = back.first else { Issue.record("no DDATA: \(back)"); return }
        #expect(good.metrics == [Metric(alias: alias, timestamp: 5, value: .uint16(3), properties: {
            var properties = PropertySet()
            properties.quality = .good
            return properties
        }())])
        // A metric refused before it was ever read is null with quality BAD.
        var fresh = Self.machine()
        _ = Self.connect(&fresh)
        _ = fresh.samples(device: 0, [(0, .double(1)), (1, .uint16(1))], now: 1)
        _ = fresh.deviceFailed(device: 0, now: 2)
        _ = fresh.samples(device: 0, [(0, .double(1))], now: 3)  // DBIRTH, state unknown
        let never = fresh.samples(device: 0, [(0, .double(1))], failed: [1], now: 4)
        guard case .publishDData(_, let bad)? = never.first else { Issue.record("no DDATA: \(never)"); return }
        #expect(bad.metrics.first?.isNull == true && bad.metrics.first?.properties?.quality == .bad)
    }

    @Test func primaryHostGatesTheBirthAndItsOfflineStateEndsTheSession() {
        var machine = EdgeNodeStateMachine(devices: [.init(name: "cnc-1", assetPath: nil, metrics: [("speed", .uint16, nil, 0)])],
                                           primaryHost: "scada")
        #expect(Self.connect(&machine).isEmpty)  // connected, but the host has not said online
        #expect(machine.isConnected && !machine.isOnline)
        guard case .spool? = machine.samples(device: 0, [(0, .uint16(1))], now: 1).first else {
            Issue.record("data before the host is online must be spooled")
            return
        }
        let births = machine.primaryHostState(online: true, timestamp: 100, now: 2)
        #expect(births.count == 2 && machine.isOnline)
        guard case .publishNBirth(let nbirth)? = births.first else { Issue.record("no NBIRTH"); return }
        #expect(nbirth.seq == 0 && Self.bdSeq(nbirth) == .int64(0))
        // An offline STATE older than the online one is a stale Will: ignored.
        #expect(machine.primaryHostState(online: false, timestamp: 99, now: 3).isEmpty && machine.isOnline)
        #expect(machine.primaryHostState(online: false, timestamp: 150, now: 4) == [.reconnectForPrimaryHost])
        #expect(!machine.isOnline)
        machine.disconnected()
        #expect(Self.connect(&machine).isEmpty)  // the retained STATE says offline: keep waiting
        #expect(machine.primaryHostState(online: false, timestamp: 150, now: 5).isEmpty)
        guard case .spool? = machine.samples(device: 0, [(0, .uint16(2))], now: 6).first else {
            Issue.record("data while the host is offline must be spooled")
            return
        }
        #expect(machine.primaryHostState(online: true, timestamp: 120, now: 7).isEmpty)  // older: ignored
        let again = machine.primaryHostState(online: true, timestamp: 200, now: 8)
        guard case .publishNBirth(let second)? = again.first else { Issue.record("no NBIRTH: \(again)"); return }
        #expect(Self.bdSeq(second) == .int64(1))
    }

    @Test func nodeStatusGoesOutAsNDataWhenChanged() {
        var machine = Self.machine()
        _ = machine.nextWill()
        _ = machine.connected(now: 0)
        let values: [MetricValue] = [.uint32(1), .uint64(10), .uint64(0), .uint64(0), .uint64(0)]
        let first = machine.nodeStatus(values, now: 1)
        guard case .publishNData(let ndata)? = first.first else { Issue.record("no NDATA"); return }
        #expect(ndata.seq == 1 && ndata.metrics.count == 2)  // devices online and polls changed
        #expect(machine.nodeStatus(values, now: 2).isEmpty)
    }

    @Test func commandsResolveByAliasOrName() {
        let machine = Self.machine()
        let alias = machine.devices[1].metrics[0].alias
        #expect(machine.resolve(device: "cnc-1", metric: Metric(alias: alias))! == (1, 0))
        #expect(machine.resolve(device: "press-1", metric: Metric(name: "state"))! == (0, 1))
        #expect(machine.resolve(device: "press-1", metric: Metric(name: "nope")) == nil)
    }
}
