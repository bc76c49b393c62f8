import Foundation
import Modbus

/// The gateway's configuration file (`gateway --config FILE`, YAML), validated as a whole.
///
/// Keys (type, default):
/// - `groupId` (Sparkplug group id, required), `edgeNodeId` (required): ids without `+ / #`
/// - `primaryHostId` (Sparkplug host id, optional): the node waits for `spBv1.0/STATE/<id>` online before its
///   NBIRTH and leaves the session when that host goes offline (data is spooled meanwhile); without it the
///   node births as soon as it is connected
/// - `maxGap` (registers a single read may bridge between two tags, integer 0…125, default 8)
/// - `spool.path` (SQLite file, default `gateway-spool.sqlite`), `spool.maxMessages` (integer ≥ 1, default
///   100000), `spool.replayRate` (messages per second, > 0, default 200)
/// - `pollGroups[]`: `name`, `interval` (duration: `500ms`, `2s`, `1m` or seconds as a number)
/// - `devices[]`: `name` (the Sparkplug device id), `host`, `port` (default 502), `unitId` (0…255, default 1),
///   `timeout` (duration, default 1s), `retries` (0…10, default 1), `reconnectBackoff.min`/`.max`
///   (durations, default 0.5s / 30s), `assetPath` (ISA-95 path such as `acme/dresden/body-shop/line-1/press-1`),
///   `wordOrder`, `byteOrder` (defaults for the device's tags)
/// - `devices[].tags[]`: `name`, `address` (`40001`, `400001`, `1!40001`, or `{area, offset}` 0-based with
///   area coil / discrete / input / holding), `type` (int16 uint16 int32 uint32 int64 float32 float64 bool
///   string; default uint16, bool for coils and discrete inputs), `length` (registers, strings only),
///   `byteOrder` (big-endian / little-endian within a register), `wordOrder` (big-endian / little-endian),
///   `scale` (default 1), `offset` (default 0), `unit`, `deadband` (≥ 0, default 0), `pollGroup` (default the
///   first), `writable` (default false), `min`, `max` (engineering values a write must respect)
struct GatewayConfig: Sendable, Equatable {
    var groupID: String
    var edgeNodeID: String
    var maxGap: Int
    var spool: SpoolConfig
    var pollGroups: [PollGroupConfig]
    var devices: [DeviceConfig]
    /// The Sparkplug host application whose STATE gates the births; nil: none.
    var primaryHostID: String? = nil
}

extension GatewayConfig {
    /// The configuration without a file: group `shopfloor`, the instance name as edge node id, no devices,
    /// the spool in the temporary directory.
    static func withoutDevices(edgeNodeID: String) -> GatewayConfig {
        let spool = (NSTemporaryDirectory() as NSString).appendingPathComponent("gateway-spool-\(edgeNodeID).sqlite")
        return GatewayConfig(groupID: "shopfloor", edgeNodeID: edgeNodeID, maxGap: 8,
                             spool: SpoolConfig(path: spool, maxMessages: 100_000, replayRate: 200),
                             pollGroups: [PollGroupConfig(name: "default", interval: .seconds(1))], devices: [])
    }
}

/// Where the store-and-forward spool lives and how it drains.
struct SpoolConfig: Sendable, Equatable {
    var path: String
    var maxMessages: Int
    /// Messages per second replayed after a reconnect.
    var replayRate: Double
}

/// A named polling interval tags refer to.
struct PollGroupConfig: Sendable, Equatable {
    var name: String
    var interval: Duration
}

/// One Modbus TCP device, which becomes one Sparkplug device.
struct DeviceConfig: Sendable, Equatable {
    var name: String
    var host: String
    var port: Int
    var unitID: UInt8
    var timeout: Duration
    var retries: Int
    var backoffMinimum: Duration
    var backoffMaximum: Duration
    var assetPath: String?
    var tags: [TagConfig]
}

/// One value read from a device.
struct TagConfig: Sendable, Equatable {
    var name: String
    var address: TagAddress
    var type: TagType
    /// Registers of a string; for other types `type.registerCount`.
    var length: Int
    var byteOrder: ByteOrder
    var wordOrder: ModbusWordOrder
    var scale: Double
    var offset: Double
    var unit: String?
    var deadband: Double
    var pollGroup: String
    var writable: Bool
    var minimum: Double?
    var maximum: Double?

    /// Registers (or bits) this tag occupies.
    var width: Int { address.area.isBit ? 1 : length }

    /// Whether the published value is the raw value converted by scale and offset (then a Double).
    var isScaled: Bool { scale != 1 || offset != 0 }
}

/// The four Modbus data areas.
enum ModbusArea: String, Sendable, Equatable, CaseIterable {
    case coil
    case discrete
    case input
    case holding

    var isBit: Bool { self == .coil || self == .discrete }
    /// The leading digit of the 1-based convention (`40001` is holding register 0).
    var prefix: Character {
        switch self {
        case .coil: "0"
        case .discrete: "1"
        case .input: "3"
        case .holding: "4"
        }
    }
}

/// Where a tag lives: area, 0-based protocol offset, and the unit id when the address names one.
struct TagAddress: Sendable, Equatable, CustomStringConvertible {
    var area: ModbusArea
    var offset: UInt16
    var unit: UInt8?

    var description: String {
        // The 5-digit form while it can express the offset (40001), the 6-digit form beyond (410000).
        let number = Int(offset) + 1
        let base = "\(area.prefix)\(String(format: number <= 9999 ? "%04d" : "%05d", number))"
        return unit.map { "\($0)!\(base)" } ?? base
    }
}

/// The value types a tag can decode.
enum TagType: String, Sendable, Equatable, CaseIterable {
    case int16, uint16, int32, uint32, int64, float32, float64, bool, string

    /// Registers one value occupies (strings: per `length`).
    var registerCount: Int {
        switch self {
        case .int16, .uint16, .bool, .string: 1
        case .int32, .uint32, .float32: 2
        case .int64, .float64: 4
        }
    }
}

/// The order of the two bytes inside each register (Modbus says big-endian; some devices swap them).
enum ByteOrder: String, Sendable, Equatable, CaseIterable {
    case bigEndian = "big-endian"
    case littleEndian = "little-endian"
}
