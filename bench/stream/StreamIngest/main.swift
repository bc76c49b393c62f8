// Sustained ingest of `stream`: DDATA messages (10 metrics each) drained from a broker backlog, decoded,
// journaled, stored and acknowledged, measured until the store holds every sample.
//
//   StreamIngest <mqtt-url> <store-url> <count> [schema]
//
// 1. runs the host once to create its persistent session and store the births, stops it;
// 2. queues <count> DDATA (QoS 1) in the broker for that session;
// 3. starts the host again and times it from start until the store holds all <count> × 10 samples.
// Prints `msgs/s <rate> samples/s <rate> payload-bytes <n>`. bench/stream/stream-bench.sh runs it next to
// the C subscriber on the same backlog.
import Foundation
import Logging
import MQTT
import Postgres
import ServiceLifecycle
import ServiceRuntime
import Sparkplug
import StreamCore

/// Benchmark failure with a message for stderr.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
}

let arguments = CommandLine.arguments
guard arguments.count >= 4, let count = Int(arguments[3]), count > 0 else {
    FileHandle.standardError.write(Data("usage: StreamIngest <mqtt-url> <store-url> <count> [schema]\n".utf8))
    exit(2)
}
let mqttURL = arguments[1]
let storeURL = arguments[2]
let schema = arguments.count > 4 ? arguments[4] : nil
let id = String(UUID().uuidString.lowercased().prefix(8))
let group = "bench-\(id)"
let directory = NSTemporaryDirectory() + "stream-bench-\(id)"
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let logger: Logger = {
    var logger = Logger(label: "stream-bench")
    logger.logLevel = .error
    return logger
}()

let runtime = try RuntimeConfig(service: "stream", options: try RuntimeOptions.parse([]),
                                environment: ["MQTT_URL": mqttURL, "INSTANCE": "bench-\(id)",
                                              "UNS_PREFIX": "bench/\(id)"],
                                defaultHTTPPort: 0)
let config = try StreamConfig(flags: StreamFlags(store: storeURL, hostID: "bench-\(id)",
                                                 journal: "\(directory)/stream.journal", groups: group),
                              environment: [:])

func openStore() async throws -> any TimeSeriesStore {
    if case .postgres(let configuration) = config.store {
        return try await PostgresTimeSeriesStore.connect(configuration, schema: schema)
    }
    return try await TimeSeriesStores.open(config.store)
}

/// Runs the host until `done` says so, then stops it gracefully.
func runHost(until done: @escaping @Sendable (StreamHost, any TimeSeriesStore) async throws -> Bool) async throws -> Duration {
    let store = try await openStore()
    let host = StreamHost(config: config, runtime: runtime, health: HealthChecks(), logger: logger, store: store)
    let serviceGroup = ServiceGroup(configuration: .init(services: [host], logger: logger))
    let clock = ContinuousClock()
    let start = clock.now
    let running = Task { try await serviceGroup.run() }
    while try await !done(host, store) {
        try await Task.sleep(for: .milliseconds(5))
    }
    let elapsed = clock.now - start
    await serviceGroup.triggerGracefulShutdown()
    try await running.value
    await store.close()
    return elapsed
}

let url = try MQTTURL(parsing: mqttURL)
let edge = try MQTTClient(configuration: MQTTConfiguration(host: url.host, port: url.port, clientID: "edge-\(id)"))
try await edge.connect()
let nbirthTopic = try SparkplugTopic(group: group, verb: .nbirth, edgeNode: "edge").description
let dbirthTopic = try SparkplugTopic(group: group, verb: .dbirth, edgeNode: "edge", device: "dev").description
let ddataTopic = try SparkplugTopic(group: group, verb: .ddata, edgeNode: "edge", device: "dev").description
let nbirth = try Payload(timestamp: 1, metrics: [Metric(name: "bdSeq", datatype: .int64, value: .int64(0))], seq: 0).encode()
let dbirth = try Payload(timestamp: 1, metrics: (0..<10).map {
    Metric(name: "m\($0)", alias: UInt64($0), datatype: .double, value: .double(0))
} + [Metric(name: "Properties/asset", datatype: .string, value: .string("acme/bench/area/line/cell"))], seq: 1).encode()

// 1. Session and births.
let startTime = UInt64(Date().timeIntervalSince1970 * 1000)
_ = try await runHost { _, store in
    // The host migrates the store as it starts; until then there is nothing to count.
    guard let counts = try? await store.counts() else { return false }
    if counts.series == 0 {
        try await edge.publish(topic: nbirthTopic, payload: nbirth, qos: .atLeastOnce)
        try await edge.publish(topic: dbirthTopic, payload: dbirth, qos: .atLeastOnce)
        try await Task.sleep(for: .milliseconds(50))
    }
    return (try? await store.counts().samples) ?? 0 >= 10
}
// 2. The backlog, pipelined in windows of 1000 QoS 1 publishes.
var payloadBytes = 0
var next = 0
while next < count {
    let end = min(next + 1_000, count)
    var payloads: [[UInt8]] = []
    for index in next..<end {
        var metrics: [Metric] = []
        for alias in 0..<10 {
            let value = Double(index * 10 + alias) * 0.5
            metrics.append(Metric(alias: UInt64(alias), value: .untyped(.double(value))))
        }
        let seq = UInt64(index + 2) % 256
        payloads.append(try Payload(timestamp: startTime + UInt64(index), metrics: metrics, seq: seq).encode())
    }
    payloadBytes = payloads.last?.count ?? 0
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        for payload in payloads {
            tasks.addTask { try await edge.publish(topic: ddataTopic, payload: payload, qos: .atLeastOnce) }
        }
        try await tasks.waitForAll()
    }
    next = end
}

// 3. Drain and store.
let elapsed = try await runHost { host, _ in host.metrics.snapshot.samplesStored >= count * 10 }
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(String(format: "msgs/s %.0f samples/s %.0f payload-bytes %d", Double(count) / seconds,
             Double(count * 10) / seconds, payloadBytes))
await edge.disconnect()
try? FileManager.default.removeItem(atPath: directory)
