import Sparkplug
import Testing

@Suite("Topics, sequence numbers, STATE")
struct TopicTests {
    @Test("topics parse and format back to the same string", arguments: [
        "spBv1.0/plant1/NBIRTH/edge-1", "spBv1.0/plant1/NDEATH/edge-1", "spBv1.0/plant1/NDATA/edge-1",
        "spBv1.0/plant1/NCMD/edge-1", "spBv1.0/plant1/DBIRTH/edge-1/press-3", "spBv1.0/plant1/DDEATH/edge-1/press-3",
        "spBv1.0/plant1/DDATA/edge-1/press-3", "spBv1.0/plant1/DCMD/edge-1/press-3", "spBv1.0/STATE/scada-host",
        "spBv1.0/Grüße/NDATA/ü",
    ])
    func roundTrip(topic: String) throws {
        let parsed = try #require(SparkplugTopic(parsing: topic))
        #expect(parsed.description == topic)
    }

    @Test("invalid topics are rejected", arguments: [
        "", "spBv1.0", "spBv1.0/g/NDATA", "spAv1.0/g/NDATA/e", "spBv1.0/g/NDATA/e/d", "spBv1.0/g/DDATA/e",
        "spBv1.0/g/XDATA/e", "spBv1.0//NDATA/e", "spBv1.0/g/NDATA/", "spBv1.0/g+/NDATA/e", "spBv1.0/g/NDATA/e#",
        "spBv1.0/g/DDATA/e/d/x", "spBv1.0/STATE/", "spBv1.0/STATE/h/x", "spBv1.0/g/ndata/e",
    ])
    func rejections(topic: String) {
        #expect(SparkplugTopic(parsing: topic) == nil)
    }

    @Test("building topics validates ids and the device rule")
    func building() throws {
        let topic = try SparkplugTopic(group: "g", verb: .ddata, edgeNode: "e", device: "d")
        #expect(topic.kind == .edge(group: "g", verb: .ddata, edgeNode: "e", device: "d"))
        #expect(topic.verb == .ddata)
        #expect(throws: SparkplugError.self) { try SparkplugTopic(group: "g", verb: .ddata, edgeNode: "e") }
        #expect(throws: SparkplugError.self) { try SparkplugTopic(group: "g", verb: .ndata, edgeNode: "e", device: "d") }
        #expect(throws: SparkplugError.self) { try SparkplugTopic(group: "a/b", verb: .ndata, edgeNode: "e") }
        #expect(throws: SparkplugError.self) { try SparkplugTopic(stateOf: "") }
        #expect(try SparkplugTopic(stateOf: "h").description == "spBv1.0/STATE/h")
    }

    @Test("seq counts 0...255 and wraps to 0; bdSeq likewise")
    func counters() {
        var seq = SequenceNumber()
        let first = (0..<258).map { _ in seq.next() }
        #expect(first[0] == 0 && first[255] == 255 && first[256] == 0 && first[257] == 1)
        seq.reset()
        #expect(seq.next() == 0)
        #expect(SequenceNumber.follows(255, 0))
        #expect(SequenceNumber.follows(4, 5))
        #expect(!SequenceNumber.follows(4, 6))
        var bdSeq = BirthDeathSequence(255)
        #expect(bdSeq.next() == 255)
        #expect(bdSeq.next() == 0)
    }

    @Test("STATE JSON encodes as the spec shows and decodes with either key order")
    func hostState() throws {
        let state = HostState(online: true, timestamp: 1_700_000_000_123)
        #expect(String(decoding: state.encode(), as: UTF8.self) == #"{"online":true,"timestamp":1700000000123}"#)
        #expect(try HostState(decoding: state.encode()) == state)
        #expect(try HostState(decoding: Array(#"{"timestamp": 5, "online": false}"#.utf8)) == HostState(online: false, timestamp: 5))
        #expect(throws: SparkplugError.self) { try HostState(decoding: Array("ONLINE".utf8)) }
        #expect(throws: SparkplugError.self) { try HostState(decoding: Array(#"{"online":true}"#.utf8)) }
    }
}
