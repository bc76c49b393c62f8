import Sparkplug
import Synchronization

/// The Sparkplug B 3.0 edge node's protocol state as a value: bdSeq, seq, which devices are born, the last
/// value reported for every metric (report by exception), and the alias of every metric. Every input returns
/// the messages to send, in order, with their seq already assigned; the caller publishes them in that order
/// and does no protocol reasoning of its own. No clock inside: times come in as `now` (ms since the epoch).
///
/// Held in a `Mutex` by `EdgeNodeService`: the MQTT network thread asks it for each connection's Will, the
/// service's event loop feeds it everything else.
struct EdgeNodeStateMachine: Sendable {
    /// What to send, already complete.
    enum Action: Equatable, Sendable {
        case publishNBirth(Payload)
        case publishDBirth(device: String, Payload)
        case publishNData(Payload)
        case publishDData(device: String, Payload)
        case publishDDeath(device: String, Payload)
        /// DATA produced while there is no session: for the store-and-forward spool, metrics already flagged
        /// historical, no seq (it gets one when replayed).
        case spool(device: String, Payload)
        /// The primary host went offline: NDEATH (the broker publishes the Will on a DISCONNECT with reason
        /// 0x04), disconnect, and connect again (a new bdSeq), then wait for the host before the NBIRTH.
        case reconnectForPrimaryHost
    }

    /// One metric the node declares: its name, alias, datatype and static properties.
    struct MetricModel: Sendable, Equatable {
        var name: String
        var alias: UInt64
        var datatype: DataType
        var unit: String?
        var deadband: Double
    }

    /// A device as declared in the configuration.
    struct DeviceModel: Sendable, Equatable {
        var name: String
        var assetPath: String?
        var metrics: [MetricModel]
    }

    /// The gateway's own health metrics, in NBIRTH and NDATA.
    static let nodeMetricNames: [(String, DataType)] = [
        ("Gateway/Devices Online", .uint32), ("Gateway/Polls", .uint64), ("Gateway/Poll Errors", .uint64),
        ("Gateway/Spool Depth", .uint64), ("Gateway/Writes Rejected", .uint64),
    ]

    private struct DeviceState: Sendable {
        var answering = false
        var born = false
        var current: [MetricValue?]
        var currentTime: [UInt64]
        var reported: [MetricValue?]
        /// The metric's last read was refused (Modbus exception): `current` is the last good value, if any.
        var failed: [Bool]

        func quality(_ position: Int) -> Quality {
            if current[position] == nil { return .bad }
            return failed[position] ? .stale : .good
        }
    }

    let devices: [DeviceModel]
    let nodeMetrics: [MetricModel]
    private var deviceStates: [DeviceState]
    private var nodeCurrent: [MetricValue]
    private var nodeReported: [MetricValue?]
    private var bdSeqCounter: BirthDeathSequence
    private var seq = SequenceNumber()
    /// The bdSeq of the accepted connection (the value its Will carries); the NBIRTH repeats it.
    private(set) var bdSeq: Int64?
    /// The bdSeq offered in the Will of connect attempts since the last accepted connection: a refused
    /// attempt reuses it, so bdSeq advances once per new connection, not per attempt.
    private var offeredBdSeq: Int64?
    /// True between the NBIRTH of a session and its end: DATA may be published.
    private(set) var isOnline = false
    /// True while the MQTT session is up (NCMD/DCMD subscribed), born or not.
    private(set) var isConnected = false
    /// The Sparkplug host id whose STATE gates the NBIRTH (nil: birth as soon as connected).
    let primaryHost: String?
    /// The primary host's last valid STATE said online (reset on every disconnect: the retained STATE of the
    /// next session decides again).
    private(set) var primaryHostOnline = false
    /// The timestamp of the last valid STATE of the primary host; older STATE messages are ignored.
    private var primaryHostTimestamp: UInt64 = 0

    /// Builds the metric catalog; aliases are assigned in configuration order (node metrics first), so the
    /// same configuration gives the same aliases after a restart (the spool relies on it).
    init(devices: [DeviceModel.Input], initialBdSeq: UInt8 = 0, primaryHost: String? = nil) {
        self.primaryHost = primaryHost
        var alias: UInt64 = 1
        nodeMetrics = Self.nodeMetricNames.map { name, type in
            defer { alias += 1 }
            return MetricModel(name: name, alias: alias, datatype: type, unit: nil, deadband: 0)
        }
        self.devices = devices.map { input in
            DeviceModel(name: input.name, assetPath: input.assetPath, metrics: input.metrics.map { metric in
                defer { alias += 1 }
                return MetricModel(name: metric.name, alias: alias, datatype: metric.datatype, unit: metric.unit,
                                   deadband: metric.deadband)
            })
        }
        deviceStates = self.devices.map {
            DeviceState(current: Array(repeating: nil, count: $0.metrics.count),
                        currentTime: Array(repeating: 0, count: $0.metrics.count),
                        reported: Array(repeating: nil, count: $0.metrics.count),
                        failed: Array(repeating: false, count: $0.metrics.count))
        }
        nodeCurrent = [.uint32(0), .uint64(0), .uint64(0), .uint64(0), .uint64(0)]
        nodeReported = Array(repeating: nil, count: nodeMetrics.count)
        bdSeqCounter = BirthDeathSequence(initialBdSeq)
    }

    /// The Will for the connection about to be made: NDEATH with the bdSeq this connection will have if the
    /// broker accepts it. Called before every connect attempt (libmosquitto would reuse the last Will on its
    /// own reconnects); an attempt that fails reuses the value, so an outage with many refused attempts does
    /// not skip numbers (Sparkplug 3.0: +1 per new connection, 255 wraps to 0).
    mutating func nextWill() -> Payload {
        let value = offeredBdSeq ?? bdSeqCounter.next()
        offeredBdSeq = value
        return Self.death(bdSeq: value)
    }

    /// The broker accepted the connection (CONNACK): the offered bdSeq is this session's; the next
    /// connection gets the following one. Called on the MQTT network thread before `connected(now:)`.
    mutating func connectionAccepted() {
        if let offeredBdSeq { bdSeq = offeredBdSeq }
        offeredBdSeq = nil
    }

    /// The NDEATH of the current session (a graceful stop publishes it itself).
    var death: Payload { Self.death(bdSeq: bdSeq ?? 0) }

    private static func death(bdSeq: Int64) -> Payload {
        // Sparkplug 3.0: NDEATH carries exactly one metric, bdSeq, and no seq.
        Payload(metrics: [Metric(name: "bdSeq", datatype: .int64, value: .int64(bdSeq))])
    }

    /// The session is established and NCMD/DCMD (and the primary host's STATE) are subscribed: NBIRTH, then a
    /// DBIRTH per answering device; with a primary host, only once its STATE says online.
    mutating func connected(now: UInt64) -> [Action] {
        isConnected = true
        guard primaryHost == nil || primaryHostOnline else { return [] }
        isOnline = true
        return births(now: now)
    }

    /// The session ended (broker gone, or a stop): DATA goes to the spool until the next NBIRTH.
    mutating func disconnected() {
        isConnected = false
        isOnline = false
        primaryHostOnline = false
        for index in deviceStates.indices { deviceStates[index].born = false }
    }

    /// A STATE message of the primary host (`spBv1.0/STATE/<host>`, `{"online":…,"timestamp":…}`).
    /// Sparkplug 3.0: online with a timestamp at least the last one seen allows the NBIRTH; offline with a
    /// timestamp at least the last online one ends the session (NDEATH, disconnect, connect again and wait);
    /// older STATE messages are ignored.
    mutating func primaryHostState(online: Bool, timestamp: UInt64, now: UInt64) -> [Action] {
        guard primaryHost != nil, timestamp >= primaryHostTimestamp else { return [] }
        primaryHostTimestamp = timestamp
        if online {
            guard !primaryHostOnline else { return [] }
            primaryHostOnline = true
            guard isConnected, !isOnline else { return [] }
            isOnline = true
            return births(now: now)
        }
        primaryHostOnline = false
        guard isOnline else { return [] }
        isOnline = false
        for index in deviceStates.indices { deviceStates[index].born = false }
        return [.reconnectForPrimaryHost]
    }

    /// NCMD `Node Control/Rebirth` = true: NBIRTH (seq 0, same bdSeq) and every DBIRTH again.
    mutating func rebirth(now: UInt64) -> [Action] {
        guard isOnline else { return [] }
        return births(now: now)
    }

    private mutating func births(now: UInt64) -> [Action] {
        seq.reset()
        var metrics = [
            Metric(name: "bdSeq", timestamp: now, datatype: .int64, value: .int64(bdSeq ?? 0)),
            // Sparkplug 3.0: Node Control/Rebirth is false in NBIRTH and never has an alias.
            Metric(name: "Node Control/Rebirth", timestamp: now, datatype: .boolean, value: .boolean(false)),
        ]
        for (index, model) in nodeMetrics.enumerated() {
            metrics.append(Metric(name: model.name, alias: model.alias, timestamp: now, datatype: model.datatype,
                                  value: nodeCurrent[index]))
            nodeReported[index] = nodeCurrent[index]
        }
        var actions: [Action] = [.publishNBirth(Payload(timestamp: now, metrics: metrics, seq: seq.next()))]
        for index in devices.indices where deviceStates[index].answering {
            actions.append(deviceBirth(index, now: now))
        }
        return actions
    }

    private mutating func deviceBirth(_ index: Int, now: UInt64) -> Action {
        let device = devices[index]
        var state = deviceStates[index]
        let metrics = device.metrics.enumerated().map { position, model in
            var properties = PropertySet()
            if let unit = model.unit { properties.engineeringUnit = unit }
            if let path = device.assetPath { properties["asset"] = PropertyValue(.string(path)) }
            let value = state.current[position]
            properties.quality = state.quality(position)
            let time = state.currentTime[position] == 0 ? now : state.currentTime[position]
            return Metric(name: model.name, alias: model.alias, timestamp: time, datatype: model.datatype,
                          value: value, isNull: value == nil, properties: properties)
        }
        state.reported = state.current
        state.born = true
        deviceStates[index] = state
        return .publishDBirth(device: device.name, Payload(timestamp: now, metrics: metrics, seq: seq.next()))
    }

    /// A poll of a device that answered: the values read (index into the device's metrics, value) and the
    /// metrics whose read the device refused (`failed`, a Modbus exception for their block). A device that
    /// was not answering is born again; otherwise changed values beyond their deadband are reported, and a
    /// metric whose quality changes is reported with its `Quality` property: a refused read turns the last
    /// value STALE (500; BAD, 0, with a null value when there was none), the next good read makes it GOOD
    /// (192) again, whatever the deadband says.
    mutating func samples(device index: Int, _ values: [(Int, MetricValue)], failed: [Int] = [],
                          now: UInt64) -> [Action] {
        guard devices.indices.contains(index) else { return [] }
        var qualityChanged: Set<Int> = []
        for (position, value) in values where deviceStates[index].current.indices.contains(position) {
            if deviceStates[index].failed[position] { qualityChanged.insert(position) }
            deviceStates[index].failed[position] = false
            deviceStates[index].current[position] = value
            deviceStates[index].currentTime[position] = now
        }
        for position in failed where deviceStates[index].failed.indices.contains(position) {
            guard !deviceStates[index].failed[position] else { continue }
            deviceStates[index].failed[position] = true
            deviceStates[index].currentTime[position] = now
            qualityChanged.insert(position)
        }
        if !deviceStates[index].answering {
            deviceStates[index].answering = true
            if isOnline { return [deviceBirth(index, now: now)] }
        }
        let changed = values.map(\.0).filter { position in
            let state = deviceStates[index]
            guard state.current.indices.contains(position), let value = state.current[position] else { return false }
            return Self.changed(value, from: state.reported[position], deadband: devices[index].metrics[position].deadband)
        }
        return report(device: index, Array(Set(changed).union(qualityChanged)).sorted(), qualityChanged: qualityChanged,
                      now: now)
    }

    /// A write was accepted by the device: report the new value whatever the deadband says.
    mutating func written(device index: Int, metric position: Int, value: MetricValue, now: UInt64) -> [Action] {
        guard devices.indices.contains(index), deviceStates[index].current.indices.contains(position),
              deviceStates[index].answering
        else { return [] }
        deviceStates[index].current[position] = value
        deviceStates[index].currentTime[position] = now
        return report(device: index, [position], now: now)
    }

    private mutating func report(device index: Int, _ positions: [Int], qualityChanged: Set<Int> = [],
                                 now: UInt64) -> [Action] {
        guard !positions.isEmpty else { return [] }
        let device = devices[index]
        var state = deviceStates[index]
        // Sparkplug 3.0: DATA metrics carry the alias only (no name, no datatype) and their own timestamp.
        let metrics = positions.compactMap { position -> Metric? in
            let value = state.current[position]
            let alias = device.metrics[position].alias, time = state.currentTime[position]
            guard qualityChanged.contains(position) else {
                guard let value else { return nil }
                state.reported[position] = value
                return Metric(alias: alias, timestamp: time, value: value, isHistorical: !isOnline)
            }
            var properties = PropertySet()
            properties.quality = state.quality(position)
            if let value { state.reported[position] = value }
            return Metric(alias: alias, timestamp: time, value: value, isNull: value == nil, isHistorical: !isOnline,
                          properties: properties)
        }
        deviceStates[index] = state
        guard !metrics.isEmpty else { return [] }
        if isOnline && state.born {
            return [.publishDData(device: device.name, Payload(timestamp: now, metrics: metrics, seq: seq.next()))]
        }
        if !isOnline { return [.spool(device: device.name, Payload(timestamp: now, metrics: metrics))] }
        return []
    }

    /// A device stopped answering (after its retries): DDEATH if it was born; its values become unknown until
    /// it answers again and gets a new DBIRTH.
    mutating func deviceFailed(device index: Int, now: UInt64) -> [Action] {
        guard devices.indices.contains(index), deviceStates[index].answering else { return [] }
        let wasBorn = deviceStates[index].born
        deviceStates[index].answering = false
        deviceStates[index].born = false
        deviceStates[index].current = Array(repeating: nil, count: devices[index].metrics.count)
        deviceStates[index].failed = Array(repeating: false, count: devices[index].metrics.count)
        guard isOnline && wasBorn else { return [] }
        return [.publishDDeath(device: devices[index].name, Payload(timestamp: now, seq: seq.next()))]
    }

    /// The gateway's own counters (in `nodeMetricNames` order): NDATA with the ones that changed.
    mutating func nodeStatus(_ values: [MetricValue], now: UInt64) -> [Action] {
        var metrics: [Metric] = []
        for (index, value) in values.enumerated() where nodeCurrent.indices.contains(index) {
            nodeCurrent[index] = value
            if isOnline && nodeReported[index] != value {
                nodeReported[index] = value
                metrics.append(Metric(alias: nodeMetrics[index].alias, timestamp: now, value: value))
            }
        }
        guard isOnline, !metrics.isEmpty else { return [] }
        return [.publishNData(Payload(timestamp: now, metrics: metrics, seq: seq.next()))]
    }

    /// A spooled DATA payload to send again: DDATA with the next seq, if that device is born in this session
    /// (nil otherwise: after a DDEATH no DDATA may follow until its DBIRTH, so the caller keeps it).
    mutating func replay(device name: String, _ payload: Payload, now: UInt64) -> Action? {
        guard isOnline, let index = devices.firstIndex(where: { $0.name == name }), deviceStates[index].born
        else { return nil }
        var replayed = payload
        replayed.seq = seq.next()
        replayed.timestamp = now
        for position in replayed.metrics.indices { replayed.metrics[position].isHistorical = true }
        return .publishDData(device: name, replayed)
    }

    /// Whether the device answered its last poll.
    func isAnswering(device index: Int) -> Bool { deviceStates.indices.contains(index) && deviceStates[index].answering }

    /// The last value read for a device's metric (nil when unknown or the device is not answering).
    func current(device index: Int, metric position: Int) -> MetricValue? {
        guard deviceStates.indices.contains(index), deviceStates[index].current.indices.contains(position) else { return nil }
        return deviceStates[index].current[position]
    }

    /// Number of devices answering now.
    var devicesOnline: Int { deviceStates.filter(\.answering).count }

    /// The device and metric a DCMD metric names (by alias or by name).
    func resolve(device name: String, metric: Metric) -> (device: Int, metric: Int)? {
        guard let index = devices.firstIndex(where: { $0.name == name }) else { return nil }
        let position = devices[index].metrics.firstIndex { model in
            if let alias = metric.alias { return model.alias == alias }
            return model.name == metric.name
        }
        return position.map { (index, $0) }
    }

    /// Report by exception: a number changes when it moves beyond the deadband, anything else when it differs.
    static func changed(_ value: MetricValue, from old: MetricValue?, deadband: Double) -> Bool {
        guard let old else { return true }
        if deadband > 0, let new = value.number, let previous = old.number { return abs(new - previous) > deadband }
        return value != old
    }
}

extension EdgeNodeStateMachine.DeviceModel {
    /// What the configuration says about a device, before aliases are assigned.
    struct Input: Sendable {
        var name: String
        var assetPath: String?
        var metrics: [(name: String, datatype: DataType, unit: String?, deadband: Double)]
    }
}

/// The state machine behind a lock, shared by the MQTT network thread (which asks for each connection's Will)
/// and the gateway's event loop. A class so the Will closure can capture it.
final class SharedEdgeNodeState: Sendable {
    private let mutex: Mutex<EdgeNodeStateMachine>

    init(_ machine: EdgeNodeStateMachine) { mutex = Mutex(machine) }

    /// Runs `body` with exclusive access; keep it short (the network thread may be waiting).
    func withLock<T: Sendable>(_ body: (inout EdgeNodeStateMachine) -> T) -> T {
        mutex.withLock { body(&$0) }
    }
}
