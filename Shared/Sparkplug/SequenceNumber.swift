/// The message sequence number `seq` of one edge node: 0 in NBIRTH, +1 for every later message of
/// the session (DBIRTH, NDATA, DDATA, DDEATH), 255 wraps to 0.
public struct SequenceNumber: Sendable, Equatable {
    /// The number the next message will carry.
    public private(set) var value: UInt8

    /// Starts at 0, the seq of an NBIRTH.
    public init(_ value: UInt8 = 0) {
        self.value = value
    }

    /// Returns the seq for the message about to be sent and moves on (255 -> 0).
    public mutating func next() -> UInt64 {
        defer { value &+= 1 }
        return UInt64(value)
    }

    /// Sparkplug 3.0: an NBIRTH (and a rebirth) starts again at 0.
    public mutating func reset() {
        value = 0
    }

    /// Whether `current` is the seq that must follow `previous` (hosts use this to spot gaps).
    public static func follows(_ previous: UInt64, _ current: UInt64) -> Bool {
        previous <= 255 && current == (previous + 1) % 256
    }
}

/// The birth/death sequence number `bdSeq` of one edge node: the Will's NDEATH and the next NBIRTH
/// carry the same value; each new MQTT CONNECT uses the previous + 1, 255 wraps to 0.
public struct BirthDeathSequence: Sendable, Equatable {
    /// The bdSeq the next CONNECT will use.
    public private(set) var value: UInt8

    /// Starts at `value` (0 for a fresh node; a restarted node may resume from its stored value).
    public init(_ value: UInt8 = 0) {
        self.value = value
    }

    /// Returns the bdSeq for the connection about to be made and moves on (255 -> 0).
    /// It travels as an Int64 metric named `bdSeq`.
    public mutating func next() -> Int64 {
        defer { value &+= 1 }
        return Int64(value)
    }
}
