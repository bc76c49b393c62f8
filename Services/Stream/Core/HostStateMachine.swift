import Sparkplug

/// Why the host asks an edge node to publish its births again.
public enum RebirthReason: String, Sendable, Equatable {
    /// A seq gap was not filled within the reorder timeout (spec item 21).
    case sequenceGap = "seq gap"
    /// NDATA/DDATA/DBIRTH/DDEATH arrived before the node's (or device's) BIRTH.
    case dataBeforeBirth = "data before birth"
    /// A DATA metric named an alias or metric no BIRTH declared.
    case unknownMetric = "unknown metric or alias"
    /// The payload could not be decoded, or a BIRTH was inconsistent.
    case malformedPayload = "malformed payload"
}

/// What the host must do after a message: the state machine decides, the loader does the I/O.
public enum HostAction: Sendable, Equatable {
    /// Upsert series metadata declared by a BIRTH.
    case defineSeries([SeriesInfo])
    /// Keep the BIRTH payload so a restarted host can resolve aliases of journaled DATA.
    case recordBirth(EdgeNodeID, device: String?)
    /// Store samples (idempotently).
    case store([Sample])
    /// The node (device nil) or device went offline: these series are STALE from `at` (ms).
    case markStale(EdgeNodeID, device: String?, series: [SeriesKey], at: UInt64)
    /// Publish NCMD `Node Control/Rebirth` = true to the node.
    case requestRebirth(EdgeNodeID, RebirthReason)
    /// A seq arrived out of order; the reorder timer runs (for metrics and logs).
    case sequenceGap(EdgeNodeID, expected: UInt64, received: UInt64)
    /// The message cannot be used; keep it as a dead letter with this reason.
    case reject(String)
    /// The message is valid but has no effect (a stale NDEATH); logged only.
    case ignore(String)
}

/// The Sparkplug 3.0 host view of every edge node: bdSeq, seq with a reorder window, alias tables, which
/// nodes and devices are born, and the rebirth rate limit. A value: it does no I/O and reads no clock;
/// callers pass the host time in milliseconds and carry out the returned actions.
public struct HostStateMachine: Sendable {
    /// Behaviour knobs.
    public struct Configuration: Sendable, Equatable {
        /// How long a seq gap may stay open before a rebirth is requested (spec: Reorder Timeout).
        public var reorderTimeout: UInt64
        /// Minimum time between two rebirth requests to the same node.
        public var rebirthInterval: UInt64
        /// Request rebirths: the primary does; a worker must not (spec: only the primary host does).
        public var isPrimary: Bool
        /// Track seq from the messages `receive` sees. Off for a worker and for the primary's loader, which
        /// see only their share of the DATA; the primary's `SequenceObserver` tracks seq instead, from an
        /// unshared subscription, with `observeSequence`.
        public var tracksSequence: Bool

        public init(reorderTimeout: UInt64 = 2_000, rebirthInterval: UInt64 = 10_000, isPrimary: Bool = true,
                    tracksSequence: Bool? = nil) {
            self.reorderTimeout = reorderTimeout
            self.rebirthInterval = rebirthInterval
            self.isPrimary = isPrimary
            self.tracksSequence = tracksSequence ?? isPrimary
        }
    }

    /// What the host knows about one device of a node.
    struct DeviceState: Sendable {
        var metrics: [String] = []
        var online = true
    }

    /// What the host knows about one edge node.
    struct NodeState: Sendable {
        var bdSeq: Int64?
        var born = false
        var aliases = AliasTable()
        var nodeMetrics: [String] = []
        var nodeAsset: String?
        var devices: [String: DeviceState] = [:]
        /// Last seq seen in order; nil right after a restore (any next seq is accepted).
        var lastSeq: UInt64?
        /// Seqs skipped over that may still arrive within the reorder timeout.
        var missing: Set<UInt64> = []
        var gapSince: UInt64?
        var lastRebirthRequest: UInt64?
    }

    public let configuration: Configuration
    private(set) var nodes: [EdgeNodeID: NodeState] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Whether the node is currently born (NBIRTH seen, no matching NDEATH since).
    public func isOnline(_ node: EdgeNodeID) -> Bool { nodes[node]?.born ?? false }

    /// Whether a reorder timer is running for the node.
    public func hasOpenGap(_ node: EdgeNodeID) -> Bool { nodes[node]?.gapSince != nil }

    // MARK: Messages

    /// Handles one decoded message of `verb` from `node` (and `device` for D* verbs) received at `now`.
    public mutating func receive(_ verb: SparkplugTopic.Verb, node id: EdgeNodeID, device: String?,
                                 payload: Payload, now: UInt64) -> [HostAction] {
        switch verb {
        case .nbirth: return nodeBirth(id, payload, now)
        case .ndeath: return nodeDeath(id, payload, now)
        case .dbirth: return deviceBirth(id, device ?? "", payload, now)
        case .ddeath: return deviceDeath(id, device ?? "", payload, now)
        case .ndata, .ddata: return data(id, device, payload, now)
        case .ncmd, .dcmd: return [.ignore("\(verb.rawValue) is a command to the edge, not data")]
        }
    }

    /// A message from `node` whose payload could not be decoded.
    public mutating func receiveMalformed(node id: EdgeNodeID, reason: String, now: UInt64) -> [HostAction] {
        var actions: [HostAction] = [.reject(reason)]
        actions += rebirth(id, .malformedPayload, now)
        return actions
    }

    /// Seq tracking alone, for a message whose payload was only scanned for its `seq` (no alias tables, no
    /// samples): an NBIRTH restarts the node's seq, an NDEATH ends it, any other edge message is checked
    /// against the reorder window. Returns `sequenceGap` actions; `tick` turns expired gaps into rebirths.
    public mutating func observeSequence(_ verb: SparkplugTopic.Verb, node id: EdgeNodeID, seq: UInt64?,
                                         now: UInt64) -> [HostAction] {
        var node = nodes[id] ?? NodeState()
        defer { nodes[id] = node }
        switch verb {
        case .nbirth:
            // Sparkplug 3.0: an NBIRTH starts a new session, seq 0.
            node.lastSeq = seq
            node.missing = []
            node.gapSince = nil
            return []
        case .ndeath:
            node.lastSeq = nil
            node.missing = []
            node.gapSince = nil
            return []
        case .ncmd, .dcmd:
            return []
        case .dbirth, .ddeath, .ndata, .ddata:
            return trackSequence(id, &node, seq, now, force: true)
        }
    }

    /// A message on `node` that could not even be scanned: a rebirth request (rate-limited).
    public mutating func observeMalformed(node id: EdgeNodeID, now: UInt64) -> [HostAction] {
        rebirth(id, .malformedPayload, now)
    }

    /// Runs the reorder timers: every gap older than the reorder timeout becomes a rebirth request.
    public mutating func tick(now: UInt64) -> [HostAction] {
        var actions: [HostAction] = []
        for id in nodes.keys {
            actions += expireGap(id, now)
        }
        return actions
    }

    /// Restores a node's births from the store after a restart, so journaled DATA still resolves. The seq is
    /// unknown afterwards: the next one is accepted as is. Returns the series the births define, so event
    /// derivation knows units, asset paths and alarm limits again (the store already has them).
    @discardableResult
    public mutating func restore(node id: EdgeNodeID, birth: Payload, deviceBirths: [(String, Payload)]) -> [SeriesInfo] {
        var node = NodeState()
        guard (try? node.aliases.define(birth: birth)) != nil else { return [] }
        node.born = true
        node.bdSeq = Self.bdSeq(of: birth)
        node.nodeMetrics = birth.metrics.compactMap(\.name).filter(Self.isSeriesMetric)
        node.nodeAsset = Self.assetPath(in: birth)
        var infos = Self.seriesInfos(birth, node: id, device: nil,
                                     asset: node.nodeAsset ?? Self.fallbackAsset(id, device: nil))
        for (device, payload) in deviceBirths where (try? node.aliases.define(birth: payload, device: device)) != nil {
            node.devices[device] = DeviceState(metrics: payload.metrics.compactMap(\.name).filter(Self.isSeriesMetric))
            let asset = Self.assetPath(in: payload) ?? node.nodeAsset.map { "\($0)/\(device)" }
            ?? Self.fallbackAsset(id, device: device)
            infos += Self.seriesInfos(payload, node: id, device: device, asset: asset)
        }
        nodes[id] = node
        return infos
    }

    // MARK: Verbs

    private mutating func nodeBirth(_ id: EdgeNodeID, _ payload: Payload, _ now: UInt64) -> [HostAction] {
        var node = nodes[id] ?? NodeState()
        var aliases = AliasTable()
        do {
            try aliases.define(birth: payload)
        } catch {
            nodes[id] = node
            return [.reject("NBIRTH rejected: \(error)")] + rebirth(id, .malformedPayload, now)
        }
        // Sparkplug 3.0: an NBIRTH starts a new session: aliases, devices and seq all reset.
        let lastRebirth = node.lastRebirthRequest
        node = NodeState()
        node.lastRebirthRequest = lastRebirth
        node.aliases = aliases
        node.born = true
        node.bdSeq = Self.bdSeq(of: payload)
        node.lastSeq = payload.seq
        node.nodeAsset = Self.assetPath(in: payload)
        node.nodeMetrics = payload.metrics.compactMap(\.name).filter(Self.isSeriesMetric)
        let asset = node.nodeAsset ?? Self.fallbackAsset(id, device: nil)
        nodes[id] = node
        let infos = Self.seriesInfos(payload, node: id, device: nil, asset: asset)
        return [.recordBirth(id, device: nil), .defineSeries(infos),
                .store(Self.samples(payload, node: id, device: nil, now: now))]
    }

    private mutating func nodeDeath(_ id: EdgeNodeID, _ payload: Payload, _ now: UInt64) -> [HostAction] {
        guard var node = nodes[id], node.born else {
            return [.ignore("NDEATH of \(id), which is not online")]
        }
        let bdSeq = Self.bdSeq(of: payload)
        // Spec item 23: only the NDEATH carrying the current NBIRTH's bdSeq ends the session; another is the
        // Will of an older connection, delivered late.
        guard bdSeq == node.bdSeq else {
            return [.ignore("stale NDEATH of \(id): bdSeq \(bdSeq.map(String.init) ?? "missing"), "
                + "current \(node.bdSeq.map(String.init) ?? "unknown")")]
        }
        node.born = false
        node.missing = []
        node.gapSince = nil
        var actions: [HostAction] = [.markStale(id, device: nil,
                                                series: node.nodeMetrics.map { SeriesKey(node: id, device: nil, metric: $0) },
                                                at: now)]
        for (name, device) in node.devices.sorted(by: { $0.key < $1.key }) where device.online {
            actions.append(.markStale(id, device: name,
                                      series: device.metrics.map { SeriesKey(node: id, device: name, metric: $0) },
                                      at: now))
            node.devices[name]?.online = false
        }
        nodes[id] = node
        return actions
    }

    private mutating func deviceBirth(_ id: EdgeNodeID, _ device: String, _ payload: Payload,
                                      _ now: UInt64) -> [HostAction] {
        guard var node = nodes[id], node.born else {
            return [.reject("DBIRTH of \(id)/\(device) before the node's NBIRTH")]
                + rebirth(id, .dataBeforeBirth, now)
        }
        var actions = trackSequence(id, &node, payload.seq, now)
        do {
            try node.aliases.define(birth: payload, device: device)
        } catch {
            nodes[id] = node
            return actions + [.reject("DBIRTH of \(id)/\(device) rejected: \(error)")]
                + rebirth(id, .malformedPayload, now)
        }
        node.devices[device] = DeviceState(metrics: payload.metrics.compactMap(\.name).filter(Self.isSeriesMetric))
        let asset = Self.assetPath(in: payload) ?? node.nodeAsset.map { "\($0)/\(device)" }
            ?? Self.fallbackAsset(id, device: device)
        nodes[id] = node
        actions += [.recordBirth(id, device: device),
                    .defineSeries(Self.seriesInfos(payload, node: id, device: device, asset: asset)),
                    .store(Self.samples(payload, node: id, device: device, now: now))]
        return actions
    }

    private mutating func deviceDeath(_ id: EdgeNodeID, _ device: String, _ payload: Payload,
                                      _ now: UInt64) -> [HostAction] {
        guard var node = nodes[id], node.born else {
            return [.ignore("DDEATH of \(id)/\(device) before the node's NBIRTH")] + rebirth(id, .dataBeforeBirth, now)
        }
        var actions = trackSequence(id, &node, payload.seq, now)
        guard let state = node.devices[device], state.online else {
            nodes[id] = node
            return actions + [.ignore("DDEATH of \(id)/\(device), which is not online")]
        }
        node.devices[device]?.online = false
        nodes[id] = node
        // Spec: DDEATH marks the device's metrics stale at the DDEATH's own timestamp.
        actions.append(.markStale(id, device: device,
                                  series: state.metrics.map { SeriesKey(node: id, device: device, metric: $0) },
                                  at: payload.timestamp ?? now))
        return actions
    }

    private mutating func data(_ id: EdgeNodeID, _ device: String?, _ payload: Payload, _ now: UInt64) -> [HostAction] {
        // Only for the rare reject: building it for every message cost an allocation per DATA.
        var what: String { device.map { "DDATA of \(id)/\($0)" } ?? "NDATA of \(id)" }
        guard var node = nodes[id], node.born else {
            return [.reject("\(what) before the node's NBIRTH")] + rebirth(id, .dataBeforeBirth, now)
        }
        var actions = trackSequence(id, &node, payload.seq, now)
        if let device, node.devices[device]?.online != true {
            nodes[id] = node
            return actions + [.reject("\(what) before the device's DBIRTH")] + rebirth(id, .dataBeforeBirth, now)
        }
        var samples: [Sample] = []
        var unresolved: [String] = []
        for metric in payload.metrics {
            do {
                let resolved = try node.aliases.resolve(metric, device: device)
                guard let name = resolved.name, Self.isSeriesMetric(name) else { continue }
                samples.append(Self.sample(resolved, name: name, node: id, device: device, payload: payload, now: now))
            } catch {
                unresolved.append("\(error)")
            }
        }
        nodes[id] = node
        if !samples.isEmpty { actions.append(.store(samples)) }
        if !unresolved.isEmpty {
            actions.append(.reject("\(what): \(unresolved.joined(separator: "; "))"))
            actions += rebirth(id, .unknownMetric, now)
        }
        return actions
    }

    // MARK: Seq and rebirths

    /// Spec item 21: a seq that does not follow the last one opens (or extends) a reorder window; the
    /// missing seqs may still arrive until it expires.
    private func trackSequence(_ id: EdgeNodeID, _ node: inout NodeState, _ seq: UInt64?,
                               _ now: UInt64, force: Bool = false) -> [HostAction] {
        guard force || configuration.tracksSequence, let seq, seq <= 255 else { return [] }
        guard let last = node.lastSeq else {
            node.lastSeq = seq
            return []
        }
        if SequenceNumber.follows(last, seq) {
            node.lastSeq = seq
            return []
        }
        if node.missing.remove(seq) != nil {
            if node.missing.isEmpty { node.gapSince = nil }
            return []
        }
        let distance = (seq + 256 - last) % 256
        // Half the seq space behind is a late or duplicate message, not a gap ahead.
        guard distance != 0, distance < 128 else { return [] }
        for step in 1..<distance {
            node.missing.insert((last + step) % 256)
        }
        node.lastSeq = seq
        if node.gapSince == nil { node.gapSince = now }
        return [.sequenceGap(id, expected: (last + 1) % 256, received: seq)]
    }

    private mutating func expireGap(_ id: EdgeNodeID, _ now: UInt64) -> [HostAction] {
        guard let since = nodes[id]?.gapSince, now >= since + configuration.reorderTimeout else { return [] }
        nodes[id]?.gapSince = nil
        nodes[id]?.missing = []
        return rebirth(id, .sequenceGap, now)
    }

    /// A rebirth request, unless this host is a worker or one went to the node within the rate limit.
    private mutating func rebirth(_ id: EdgeNodeID, _ reason: RebirthReason, _ now: UInt64) -> [HostAction] {
        guard configuration.isPrimary else { return [] }
        var node = nodes[id] ?? NodeState()
        if let last = node.lastRebirthRequest, now < last + configuration.rebirthInterval {
            nodes[id] = node
            return []
        }
        node.lastRebirthRequest = now
        nodes[id] = node
        return [.requestRebirth(id, reason)]
    }

    // MARK: Payload reading

    /// Metrics that are data; `bdSeq`, `Node Control/*` and `Properties/*` are protocol and metadata.
    static func isSeriesMetric(_ name: String) -> Bool {
        name != "bdSeq" && !name.hasPrefix("Node Control/") && !name.hasPrefix("Properties/")
    }

    static func bdSeq(of payload: Payload) -> Int64? {
        guard let metric = payload.metrics.first(where: { $0.name == "bdSeq" }) else { return nil }
        switch metric.value {
        case .int64(let value)?: return value
        case .uint64(let value)?: return Int64(exactly: value)
        case .untyped(.long(let value))?: return Int64(truncatingIfNeeded: value)
        case .untyped(.int(let value))?: return Int64(value)
        default: return nil
        }
    }

    /// The asset path a BIRTH declares in its `Properties/asset` String metric.
    static func assetPath(in payload: Payload) -> String? {
        guard let metric = payload.metrics.first(where: { $0.name == "Properties/asset" }) else { return nil }
        switch metric.value {
        case .string(let path)?, .text(let path)?: return path.isEmpty ? nil : path
        default: return nil
        }
    }

    /// Without a declared asset path the Sparkplug ids stand in: `<group>/<edge>[/<device>]`.
    static func fallbackAsset(_ id: EdgeNodeID, device: String?) -> String {
        [id.group, id.edgeNode, device].compactMap { $0 }.joined(separator: "/")
    }

    static func seriesInfos(_ payload: Payload, node: EdgeNodeID, device: String?, asset: String) -> [SeriesInfo] {
        payload.metrics.compactMap { metric in
            guard let name = metric.name, isSeriesMetric(name), let datatype = metric.datatype else { return nil }
            let properties = metric.properties
            let metricAsset: String? = switch properties?["asset"]?.value {
            case .string(let path)?, .text(let path)?: path
            default: nil
            }
            return SeriesInfo(key: SeriesKey(node: node, device: device, metric: name), datatype: datatype,
                              unit: properties?.engineeringUnit, assetPath: metricAsset ?? asset,
                              alarm: properties.flatMap(alarmLimits))
        }
    }

    static func alarmLimits(_ properties: PropertySet) -> AlarmLimits? {
        func number(_ key: String) -> Double? { SampleValue(properties[key]?.value).number }
        let high = number("alarmHigh"), low = number("alarmLow")
        guard high != nil || low != nil else { return nil }
        return AlarmLimits(high: high, low: low, hysteresis: number("alarmHysteresis") ?? 0)
    }

    static func samples(_ payload: Payload, node: EdgeNodeID, device: String?, now: UInt64) -> [Sample] {
        payload.metrics.compactMap { metric in
            guard let name = metric.name, isSeriesMetric(name) else { return nil }
            return sample(metric, name: name, node: node, device: device, payload: payload, now: now)
        }
    }

    static func sample(_ metric: Metric, name: String, node: EdgeNodeID, device: String?, payload: Payload,
                       now: UInt64) -> Sample {
        let quality: SampleQuality = switch metric.properties?.quality {
        case .bad?: .bad
        case .stale?: .stale
        case .good?, nil: .good
        }
        return Sample(series: SeriesKey(node: node, device: device, metric: name),
                      timestamp: metric.timestamp ?? payload.timestamp ?? now,
                      value: metric.isNull ? .null : SampleValue(metric.value), quality: quality)
    }
}
