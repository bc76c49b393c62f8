import Sparkplug
import Testing
@testable import Simulate

/// The load generator's Sparkplug rules, checked on the payloads it builds (no broker).
@Suite struct SparkplugLoadNodeTests {
    @Test func birthsFollowTheSessionsBdSeqAndStartAtSeqZero() throws {
        var node = SparkplugLoadNode(group: "G", node: "edge-0", devices: 3, metrics: 4)
        let will = try node.newSession()
        #expect(will.topic == "spBv1.0/G/NDEATH/edge-0")
        let death = try Payload(decoding: will.payload)
        #expect(death.metrics.first?.name == "bdSeq" && death.metrics.first?.value == .int64(0))

        let births = try node.births(now: 1000)
        #expect(
            births.map(\.topic) == [
                "spBv1.0/G/NBIRTH/edge-0", "spBv1.0/G/DBIRTH/edge-0/device-0",
                "spBv1.0/G/DBIRTH/edge-0/device-1", "spBv1.0/G/DBIRTH/edge-0/device-2",
            ])
        let payloads = try births.map { try Payload(decoding: $0.payload) }
        #expect(payloads.map(\.seq) == [0, 1, 2, 3])
        let nbirth = payloads[0]
        #expect(nbirth.metrics.contains { $0.name == "bdSeq" && $0.value == .int64(0) })
        #expect(nbirth.metrics.contains { $0.name == "Node Control/Rebirth" && $0.value == .boolean(false) })

        // A host can build its alias table from the births and resolve every DDATA metric.
        var aliases = AliasTable()
        try aliases.define(birth: nbirth)
        for (index, dbirth) in payloads.dropFirst().enumerated() {
            try aliases.define(birth: dbirth, device: "device-\(index)")
        }
        let data = try node.nextData(now: 2000)
        #expect(data.topic == "spBv1.0/G/DDATA/edge-0/device-0")
        let ddata = try Payload(decoding: data.payload)
        #expect(ddata.seq == 4)
        #expect(ddata.metrics.count == 4)
        #expect(ddata.metrics.allSatisfy { $0.name == nil && $0.alias != nil && $0.datatype == nil })
        let resolved = try ddata.metrics.map { try aliases.resolve($0, device: "device-0") }
        #expect(resolved.map(\.name) == ["metric-0", "metric-1", "metric-2", "metric-3"])
    }

    @Test func seqWrapsAfter255AndDevicesTakeTurns() throws {
        var node = SparkplugLoadNode(group: "G", node: "n", devices: 2, metrics: 1)
        _ = try node.newSession()
        _ = try node.births(now: 0)  // seq 0, 1, 2
        var seqs: [UInt64] = [], topics: [String] = []
        for _ in 0..<300 {
            let message = try node.nextData(now: 0)
            seqs.append(try Payload(decoding: message.payload).seq ?? 999)
            topics.append(message.topic)
        }
        #expect(seqs.first == 3)
        #expect(zip(seqs, seqs.dropFirst()).allSatisfy { SequenceNumber.follows($0, $1) })
        let wrap = try #require(seqs.firstIndex(of: 255))
        #expect(seqs[wrap + 1] == 0)
        #expect(
            topics[0].hasSuffix("/device-0") && topics[1].hasSuffix("/device-1") && topics[2].hasSuffix("/device-0"))
    }

    @Test func everyConnectTakesANewBdSeqAndARebirthKeepsIt() throws {
        var node = SparkplugLoadNode(group: "G", node: "n", devices: 1, metrics: 1)
        _ = try node.newSession()
        _ = try node.births(now: 0)
        _ = try node.nextData(now: 0)
        let rebirth = try node.births(now: 0)
        let nbirth = try Payload(decoding: rebirth[0].payload)
        #expect(nbirth.seq == 0)
        #expect(nbirth.metrics.first { $0.name == "bdSeq" }?.value == .int64(0))
        let secondWill = try node.newSession()
        #expect(try Payload(decoding: secondWill.payload).metrics.first?.value == .int64(1))
        let birth = try Payload(decoding: try node.births(now: 0)[0].payload)
        #expect(birth.metrics.first { $0.name == "bdSeq" }?.value == .int64(1))
    }

    @Test func onlyATrueRebirthMetricIsARebirthRequest() throws {
        let yes = try Payload(metrics: [Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(true))]
        ).encode()
        let no = try Payload(metrics: [Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(false))]
        ).encode()
        let other = try Payload(metrics: [
            Metric(name: "Node Control/Reboot", datatype: .boolean, value: .boolean(true))
        ]).encode()
        #expect(SparkplugLoadNode.isRebirthRequest(yes))
        #expect(!SparkplugLoadNode.isRebirthRequest(no))
        #expect(!SparkplugLoadNode.isRebirthRequest(other))
        #expect(!SparkplugLoadNode.isRebirthRequest([0xFF, 0x00]))
    }
}
