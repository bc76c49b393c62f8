import Sparkplug
import Testing
@testable import StreamCore

/// The primary's seq view from scanned payloads, without decoding metrics.
@Suite("Sequence observer")
struct SequenceObserverTests {
    static let topic = "spBv1.0/plant/DDATA/edge-1/press"

    @Test("the scan finds the seq an encoder wrote, past the metrics, and rejects truncated bytes")
    func scan() throws {
        for seq: UInt64 in [0, 1, 127, 128, 255] {
            let bytes = try Edge.ddata(seq: seq).encode()
            #expect(try PayloadSequence.seq(in: bytes) == seq)
            #expect(throws: PayloadSequence.Malformed.self) { _ = try PayloadSequence.seq(in: Array(bytes.dropLast())) }
        }
        #expect(try PayloadSequence.seq(in: try Edge.ndeath(bdSeq: 3).encode()) == nil)
        #expect(throws: PayloadSequence.Malformed.self) { _ = try PayloadSequence.seq(in: [0xff, 0x00, 0x13, 0x37]) }
    }

    @Test("a gap becomes a rebirth request after the reorder window unless filled; an NBIRTH restarts seq")
    func gaps() throws {
        var observer = SequenceObserver(reorderTimeout: 100, rebirthInterval: 0)
        #expect(observer.observe(topic: "spBv1.0/plant/NBIRTH/edge-1", payload: try Edge.nbirth().encode(),
                                 now: 0).isEmpty)
        #expect(observer.observe(topic: Self.topic, payload: try Edge.ddata(seq: 1).encode(), now: 1).isEmpty)
        // 2 is missing: a gap, filled in time, so no rebirth.
        #expect(observer.observe(topic: Self.topic, payload: try Edge.ddata(seq: 3).encode(), now: 2)
            == [.sequenceGap(Edge.node, expected: 2, received: 3)])
        #expect(observer.observe(topic: Self.topic, payload: try Edge.ddata(seq: 2).encode(), now: 3).isEmpty)
        #expect(observer.tick(now: 500).isEmpty)
        // 4 and 5 never come.
        _ = observer.observe(topic: Self.topic, payload: try Edge.ddata(seq: 6).encode(), now: 600)
        #expect(observer.tick(now: 650).isEmpty)
        #expect(observer.tick(now: 700) == [.requestRebirth(Edge.node, .sequenceGap)])
        // A new session: seq 0 then 1 is in order.
        _ = observer.observe(topic: "spBv1.0/plant/NBIRTH/edge-1", payload: try Edge.nbirth().encode(), now: 800)
        #expect(observer.observe(topic: Self.topic, payload: try Edge.ddata(seq: 1).encode(), now: 801).isEmpty)
        // Garbage asks for a rebirth; STATE and commands are not edge data.
        #expect(observer.observe(topic: Self.topic, payload: [0xff, 0x00], now: 900)
            == [.requestRebirth(Edge.node, .malformedPayload)])
        #expect(observer.observe(topic: "spBv1.0/STATE/host", payload: [], now: 901).isEmpty)
        #expect(observer.observe(topic: "spBv1.0/plant/NCMD/edge-1", payload: [0xff], now: 902).isEmpty)
    }
}
