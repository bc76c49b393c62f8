import Foundation
import Sparkplug
import Synchronization

/// Reads only the `seq` of a Sparkplug `Payload` (field 3, uint64) by walking the top-level protobuf fields
/// and skipping the rest, metrics included, by their lengths: the primary checks the seq of every DATA
/// message without decoding what its workers will decode and store.
enum PayloadSequence {
    /// A payload the walk cannot follow: bad varint, unknown wire type, or a length past the end.
    struct Malformed: Error {}

    /// The payload's seq, nil when it has none.
    static func seq(in bytes: [UInt8]) throws(Malformed) -> UInt64? {
        var index = 0
        var seq: UInt64?
        while index < bytes.count {
            let tag = try varint(bytes, &index)
            switch tag & 7 {
            case 0:
                let value = try varint(bytes, &index)
                if tag >> 3 == 3 { seq = value }
            case 1: index += 8
            case 2:
                let length = try varint(bytes, &index)
                guard length <= UInt64(bytes.count - index) else { throw Malformed() }
                index += Int(length)
            case 5: index += 4
            default: throw Malformed()
            }
            guard index <= bytes.count else { throw Malformed() }
        }
        return seq
    }

    private static func varint(_ bytes: [UInt8], _ index: inout Int) throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw Malformed()
    }
}

/// The primary's view of every edge node's `seq` (Sparkplug 3.0 item 21), fed by an unshared, non-durable
/// subscription to every Sparkplug message, while the durable ingest takes DATA only through the shared
/// subscription group, as the workers do. With workers present, the broker splits storage among all of
/// them and the primary; alone, the primary's share is everything.
///
/// A value: one task owns it, so no lock.
struct SequenceObserver {
    private var machine: HostStateMachine

    init(reorderTimeout: UInt64, rebirthInterval: UInt64) {
        machine = HostStateMachine(configuration: .init(reorderTimeout: reorderTimeout,
                                                        rebirthInterval: rebirthInterval, isPrimary: true,
                                                        tracksSequence: true))
    }

    /// What one message tells about seq: gaps (for metrics and logs) and rebirths (undecodable payloads).
    /// Topics that are not edge-node messages (STATE, or not Sparkplug at all) are left to the ingest path.
    mutating func observe(topic: String, payload: [UInt8], now: UInt64) -> [HostAction] {
        guard let parsed = SparkplugTopic(parsing: topic),
              case .edge(let group, let verb, let edgeNode, _) = parsed.kind,
              verb != .ncmd, verb != .dcmd else { return [] }
        let node = EdgeNodeID(group: group, edgeNode: edgeNode)
        do {
            return machine.observeSequence(verb, node: node, seq: try PayloadSequence.seq(in: payload), now: now)
        } catch {
            return machine.observeMalformed(node: node, now: now)
        }
    }

    /// Expired reorder windows become rebirth requests.
    mutating func tick(now: UInt64) -> [HostAction] {
        machine.tick(now: now)
    }
}

/// The observer shared by the message task and the timer task of the primary.
final class SharedSequenceObserver: Sendable {
    let state: Mutex<SequenceObserver>

    init(_ observer: SequenceObserver) {
        state = Mutex(observer)
    }
}
