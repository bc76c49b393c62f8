import Sparkplug

/// One simulated Sparkplug B 3.0 edge node of the load generator, as a value: it decides what to publish
/// (births, data, death) and with which `seq`/`bdSeq`, and the service only sends it. Unit-tested without a
/// broker.
///
/// - NBIRTH: seq 0, metrics `bdSeq` (Int64, same as the will's NDEATH) and `Node Control/Rebirth` (false).
/// - DBIRTH per device: every metric with name, alias, datatype and value. Aliases are unique per node.
/// - DDATA: one device's metrics by alias only, round robin over the devices; seq +1 per message, 255 → 0.
/// - NDEATH: the current bdSeq, as the MQTT will and as the goodbye on a graceful stop.
struct SparkplugLoadNode: Sendable {
    let group: String
    let node: String
    let devices: [String]
    let metricsPerDevice: Int
    private var birthDeath = BirthDeathSequence()
    /// The bdSeq of the current MQTT session.
    private(set) var bdSeq: Int64 = 0
    private var seq = SequenceNumber()
    private var nextDevice = 0
    /// Drives the metric values: each DDATA moves every value one step along its own sine-ish ramp.
    private var step: UInt64 = 0

    static let rebirthMetric = "Node Control/Rebirth"

    init(group: String, node: String, devices: Int, metrics: Int) {
        self.group = group
        self.node = node
        self.devices = (0..<devices).map { "device-\($0)" }
        metricsPerDevice = metrics
    }

    /// The alias of metric `metric` of device `device` (1-based; unique in the node).
    func alias(device: Int, metric: Int) -> UInt64 { UInt64(device * metricsPerDevice + metric + 1) }

    /// Called before every CONNECT: takes the next bdSeq and returns the NDEATH to set as the will.
    mutating func newSession() throws(SparkplugError) -> (topic: String, payload: [UInt8]) {
        bdSeq = birthDeath.next()
        return try death()
    }

    /// The NDEATH of the current session.
    func death() throws(SparkplugError) -> (topic: String, payload: [UInt8]) {
        let topic = try SparkplugTopic(group: group, verb: .ndeath, edgeNode: node)
        let payload = Payload(metrics: [Metric(name: "bdSeq", datatype: .int64, value: .int64(bdSeq))])
        return (topic.description, try payload.encode())
    }

    /// NBIRTH then one DBIRTH per device; seq starts again at 0 (also for a rebirth).
    mutating func births(now: UInt64) throws(SparkplugError) -> [(topic: String, payload: [UInt8])] {
        seq.reset()
        nextDevice = 0
        var messages: [(topic: String, payload: [UInt8])] = []
        let nbirth = Payload(
            timestamp: now,
            metrics: [
                Metric(name: "bdSeq", timestamp: now, datatype: .int64, value: .int64(bdSeq)),
                Metric(name: Self.rebirthMetric, timestamp: now, datatype: .boolean, value: .boolean(false)),
                Metric(
                    name: "Properties/Load generator", timestamp: now, datatype: .string,
                    value: .string("shopfloor simulate --sparkplug")),
            ], seq: seq.next())
        messages.append(
            (
                try SparkplugTopic(group: group, verb: .nbirth, edgeNode: node).description,
                try nbirth.encode()
            ))
        for (index, device) in devices.enumerated() {
            let metrics = (0..<metricsPerDevice).map { metric in
                Metric(
                    name: "metric-\(metric)", alias: alias(device: index, metric: metric), timestamp: now,
                    datatype: .double, value: .double(value(device: index, metric: metric)))
            }
            let dbirth = Payload(timestamp: now, metrics: metrics, seq: seq.next())
            messages.append(
                (
                    try SparkplugTopic(group: group, verb: .dbirth, edgeNode: node, device: device).description,
                    try dbirth.encode()
                ))
        }
        return messages
    }

    /// The next DDATA: all metrics of the next device, by alias, without names or datatypes.
    mutating func nextData(now: UInt64) throws(SparkplugError) -> (topic: String, payload: [UInt8]) {
        let index = nextDevice
        nextDevice = (nextDevice + 1) % devices.count
        step &+= 1
        let metrics = (0..<metricsPerDevice).map { metric in
            Metric(
                alias: alias(device: index, metric: metric), timestamp: now,
                value: .double(value(device: index, metric: metric)))
        }
        let payload = Payload(timestamp: now, metrics: metrics, seq: seq.next())
        let topic = try SparkplugTopic(group: group, verb: .ddata, edgeNode: node, device: devices[index])
        return (topic.description, try payload.encode())
    }

    /// Whether an NCMD asks for a rebirth (`Node Control/Rebirth` = true, by name or by any alias).
    static func isRebirthRequest(_ bytes: [UInt8]) -> Bool {
        guard let payload = try? Payload(decoding: bytes) else { return false }
        return payload.metrics.contains { metric in
            guard metric.name == rebirthMetric else { return false }
            switch metric.value {
            case .boolean(true)?, .untyped(.boolean(true))?: return true
            default: return false
            }
        }
    }

    private func value(device: Int, metric: Int) -> Double {
        let phase = Double((step &+ UInt64(device * 7 + metric * 13)) % 1000)
        return Double(metric) * 10 + (phase < 500 ? phase : 1000 - phase) / 100
    }
}
