// GatewayLatency: how long a register change on a Modbus device takes to reach the broker as the gateway's
// DDATA, for bench/gateway/latency.sh (which starts simulate, mosquitto and a release gateway).
//
//   GatewayLatency <mqtt-port> <modbus-port> <group> <edge> <device> <metric> <register> <scale> <changes> <max-pause-ms>
//
// It learns the metric's alias from a DBIRTH (asking for a rebirth), then, <changes> times: waits a random
// 0…<max-pause-ms> (so changes land at every phase of the poll interval), writes a new raw value to holding
// register <register> (0-based) with FC 6, and times from just before the write to the DDATA that carries
// the new value (times taken inside libmosquitto's on_message, before any hop to a Swift task).
// Prints one line: changes, missing, p50, p90, p99, max in milliseconds.
import Foundation
import Logging
import MQTT
import Modbus
import Sparkplug
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count == 11, let mqttPort = Int(arguments[1]), let modbusPort = Int(arguments[2]),
      let register = UInt16(arguments[7]), let scale = Double(arguments[8]), scale > 0,
      let changes = Int(arguments[9]), changes > 0, let maxPause = Int(arguments[10]), maxPause >= 0
else {
    FileHandle.standardError.write(Data("usage: GatewayLatency <mqtt-port> <modbus-port> <group> <edge> <device> <metric> <register> <scale> <changes> <max-pause-ms>\n".utf8))
    exit(2)
}
let (group, edge, device, metricName) = (arguments[3], arguments[4], arguments[5], arguments[6])

/// Where the network thread leaves what it saw: the metric's alias from the DBIRTH, and the arrival time of
/// the value the main task is waiting for.
final class Watch: Sendable {
    struct State {
        var alias: UInt64?
        var expected: Double?
        var waiter: CheckedContinuation<ContinuousClock.Instant?, Never>?
    }

    let state = Mutex(State())
    let metric: String
    /// Half a raw step in engineering units: a scaled value arrives as a Double with rounding noise.
    let tolerance: Double

    init(metric: String, scale: Double) {
        self.metric = metric
        tolerance = scale / 2
    }

    /// The number a DATA metric carries (DATA leaves the datatype out, so it decodes untyped).
    static func number(_ value: MetricValue?) -> Double? {
        switch value {
        case .double(let v)?: v
        case .float(let v)?: Double(v)
        case .untyped(.double(let v))?: v
        case .untyped(.float(let v))?: Double(v)
        case .untyped(.int(let v))?: Double(v)
        case .untyped(.long(let v))?: Double(v)
        default: nil
        }
    }

    /// Runs inside on_message: timestamp first, then decode.
    func received(_ message: MQTTMessage) {
        let now = ContinuousClock.now
        guard let payload = try? Payload(decoding: message.payload) else { return }
        if message.topic.contains("/DBIRTH/") {
            let alias = payload.metrics.first { $0.name == metric }?.alias
            state.withLock { $0.alias = alias }
            return
        }
        let waiter = state.withLock { state -> CheckedContinuation<ContinuousClock.Instant?, Never>? in
            guard let alias = state.alias, let expected = state.expected,
                  payload.metrics.contains(where: { $0.alias == alias && Self.number($0.value).map { abs($0 - expected) < tolerance } == true })
            else { return nil }
            state.expected = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: now)
    }

    /// Arms the wait for `value`; call before the write so a fast DDATA cannot be missed.
    func expect(_ value: Double) { state.withLock { $0.expected = value } }

    /// The arrival time of the armed value, or nil after `timeout`.
    func arrival(timeout: Duration) async -> ContinuousClock.Instant? {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let waiter = state.withLock { state in
                state.expected = nil
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let armed = state.withLock { state in
                guard state.expected != nil else { return false }
                state.waiter = continuation
                return true
            }
            // Already arrived (or timed out) before the wait was registered.
            if !armed { continuation.resume(returning: .now) }
        }
    }
}

var logger = Logger(label: "gateway-latency")
logger.logLevel = .warning
let watch = Watch(metric: metricName, scale: scale)
let mqtt = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: mqttPort,
                                                           clientID: "gateway-latency-\(getpid())"),
                          logger: logger, durableHandler: { watch.received($0) })
try await mqtt.connect()
try await mqtt.subscribe(to: SparkplugTopic(group: group, verb: .dbirth, edgeNode: edge, device: device).description, qos: .atMostOnce)
try await mqtt.subscribe(to: SparkplugTopic(group: group, verb: .ddata, edgeNode: edge, device: device).description, qos: .atMostOnce)
let rebirth = Payload(timestamp: UInt64(Date().timeIntervalSince1970 * 1000), metrics: [
    Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(true)),
])
// Asked again every half second: the gateway may not have its session yet when this starts.
for _ in 0..<60 where watch.state.withLock({ $0.alias }) == nil {
    try await mqtt.publish(topic: SparkplugTopic(group: group, verb: .ncmd, edgeNode: edge).description,
                           payload: try rebirth.encode(), qos: .atMostOnce)
    try await Task.sleep(for: .milliseconds(500))
}
guard watch.state.withLock({ $0.alias }) != nil else {
    FileHandle.standardError.write(Data("no DBIRTH of \(device) with a metric \(metricName) within 30 s\n".utf8))
    exit(1)
}

let modbus = ModbusTCPClient(host: "127.0.0.1", port: modbusPort, timeout: .seconds(2))
var latencies: [Duration] = []
var missing = 0
for change in 0..<changes {
    if maxPause > 0 { try await Task.sleep(for: .microseconds(Int.random(in: 0..<(maxPause * 1000)))) }
    // 20.0 … 119.9 in engineering units for a 0.1 scale: always different from the previous value.
    let raw = UInt16(200 + change % 1000)
    watch.expect(Double(raw) * scale)
    let start = ContinuousClock.now
    _ = try await modbus.send(.writeSingleRegister(address: register, value: raw), unit: 1)
    if let arrived = await watch.arrival(timeout: .seconds(5)) {
        latencies.append(arrived - start)
    } else {
        missing += 1
    }
}
await modbus.close()
await mqtt.disconnect()

latencies.sort()
func milliseconds(_ duration: Duration) -> String {
    String(format: "%.2f", Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)
}
func percentile(_ sorted: [Duration], _ p: Double) -> String {
    sorted.isEmpty ? "-" : milliseconds(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
}
let sorted = latencies
print("changes \(sorted.count) missing \(missing) p50_ms \(percentile(sorted, 0.5)) p90_ms \(percentile(sorted, 0.9)) "
      + "p99_ms \(percentile(sorted, 0.99)) max_ms \(sorted.last.map(milliseconds) ?? "-")")
