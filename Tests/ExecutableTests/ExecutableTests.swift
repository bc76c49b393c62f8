import Foundation
import MQTT
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Every executable, started as a user would start it.
@Suite("Executables", .serialized)
struct ExecutableTests {
    static let executables = ["gateway", "stream", "api", "simulate", "rag-index"]

    @Test(arguments: executables)
    func helpListsTheSharedFlags(name: String) async throws {
        let pipe = Pipe()
        let process = Process()
        process.executableURL = RunningService.binDirectory.appendingPathComponent(name)
        process.arguments = ["--help"]
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for flag in ["--mqtt-url", "--http-port", "--log-level", "MQTT_URL", "HTTP_PORT"] {
            #expect(output.contains(flag), "\(name) --help does not mention \(flag)")
        }
    }

    /// The broker the test harness started.
    private static func brokerURL() throws -> String {
        let broker = try TestEnvironment.mqttBroker()
        return "mqtt://\(broker.host):\(broker.port)"
    }

    /// Settings that keep a service started here out of every other test's way: its own UNS prefix, Modbus
    /// ports clear of a plant on 5020, and for stream its own Sparkplug group (it would otherwise request
    /// rebirths from other tests' edge nodes), host id and store.
    private static func isolated(prefix: String) throws -> [String: String] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent(TestEnvironment.uniqueName("exec", separator: "-")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let unique = TestEnvironment.uniqueName("exec", separator: "-")
        return ["MQTT_URL": try brokerURL(), "UNS_PREFIX": prefix,
                "MODBUS_PORT": String(Int.random(in: 30000...39000)),
                "STREAM_GROUPS": unique, "STREAM_HOST_ID": unique,
                "STREAM_STORE": "sqlite:\(directory)/stream.db", "STREAM_JOURNAL": "\(directory)/stream.journal",
                "RAG_INDEX": "\(directory)/rag-index.sqlite"]
    }

    /// Starts `name` on a free HTTP port and returns it with the port it logged.
    private func start(_ name: String, instance: String, prefix: String) async throws -> (RunningService, Int) {
        let service = try RunningService(
            name, arguments: ["--http-port", "0", "--log-format", "json", "--instance", instance],
            // simulate serves its machines on MODBUS_PORT + i: keep clear of a plant running on 5020.
            environment: Self.isolated(prefix: prefix))
        let line = try await service.waitForLog { $0.contains("HTTP server listening") }
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return (service, try #require(Int(object?["port"] as? String ?? "")))
    }

    private func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test(arguments: executables)
    func servesHealthAndMetricsThenStopsCleanlyOnSIGTERM(name: String) async throws {
        let prefix = TestEnvironment.uniqueName("uns")
        let (service, port) = try await start(name, instance: "exec-test", prefix: prefix)
        defer { service.terminate() }

        // Readiness: /health turns 200 once the broker connection is up.
        var health = try await get(port, "/health")
        try await poll("\(name) /health to report ok") {
            health = try await get(port, "/health")
            return health.status == 200
        }
        #expect(health.body.contains(#""service":"\#(name)""#))
        #expect(health.body.contains(#""mqtt":{"detail":"connected to"#))

        let metrics = try await get(port, "/metrics")
        #expect(metrics.body.contains("shopfloor_build_info{service=\"\(name)\""))
        #expect(metrics.body.contains("shopfloor_mqtt_connects_total{service=\"\(name)\"} 1"))

        service.terminate()  // SIGTERM
        let status = try await service.waitForExit()
        #expect(status == 0)
        #expect(service.logLines.contains { $0.contains("stopped cleanly") })
    }

    @Test(arguments: executables)
    func stopsOnSIGTERMWhileTheBrokerRefusesConnections(name: String) async throws {
        var environment = try Self.isolated(prefix: TestEnvironment.uniqueName("uns"))
        // A port nothing listens on: every connect attempt is refused.
        environment["MQTT_URL"] = "mqtt://127.0.0.1:1"
        let service = try RunningService(
            name, arguments: ["--http-port", "0", "--log-format", "json", "--instance", "refused-test"],
            environment: environment)
        defer { service.terminate() }
        _ = try await service.waitForLog { $0.contains("Connection refused") }
        service.terminate()  // SIGTERM
        let status = try await service.waitForExit()
        // 0 once its service group runs; SIGTERM's own status when it arrived before the handlers were installed.
        #expect(status == 0 || status == SIGTERM, "\(name) did not stop on SIGTERM while the broker was down")
    }

    /// The broker stops answering at the moment the service is told to stop (a whole plant going down at
    /// once): the goodbyes (status, STATE, NDEATH) get no acknowledgement, and the service must still exit.
    @Test(arguments: executables)
    func stopsOnSIGTERMWhenTheBrokerFreezesAtThatMoment(name: String) async throws {
        let port = Int.random(in: 40000...49000)
        let broker = Process()
        broker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        broker.arguments = ["mosquitto", "-p", String(port)]
        broker.standardOutput = FileHandle.nullDevice
        broker.standardError = FileHandle.nullDevice
        try broker.run()
        // SIGKILL: a child of the test process inherits SIGTERM blocked (ServiceLifecycle blocks it) and would
        // outlive the test.
        defer { kill(broker.processIdentifier, SIGKILL) }
        var environment = try Self.isolated(prefix: TestEnvironment.uniqueName("uns"))
        environment["MQTT_URL"] = "mqtt://127.0.0.1:\(port)"
        let service = try RunningService(
            name, arguments: ["--http-port", "0", "--log-format", "json", "--instance", "frozen-test"],
            environment: environment)
        defer { service.terminate() }
        _ = try await service.waitForLog { $0.contains("HTTP server listening") }
        _ = try await service.waitForLog { $0.contains("MQTT connected") }
        kill(broker.processIdentifier, SIGSTOP)  // connections stay open; nothing is acknowledged any more
        service.terminate()  // SIGTERM
        let status = try await service.waitForExit()
        #expect(status == 0, "\(name) did not stop cleanly while the broker was frozen")
    }

    @Test func retainedStatusIsOnlineWhileRunningAndOfflineAfterSIGTERM() async throws {
        let prefix = TestEnvironment.uniqueName("uns")
        let topic = "\(prefix)/_svc/gateway/status/status-test"
        let broker = try TestEnvironment.mqttBroker()
        let (service, _) = try await start("gateway", instance: "status-test", prefix: prefix)
        defer { service.terminate() }

        /// Reads the retained status as a new subscriber would.
        func retainedStatus() async throws -> String? {
            let watcher = try MQTTClient(configuration: .init(host: broker.host, port: broker.port,
                                                              clientID: TestEnvironment.uniqueName("w", separator: "-")))
            try await watcher.connect()
            _ = try await watcher.subscribe(to: topic, qos: .atLeastOnce)
            let message = (try? await watcher.messages.first(1, timeout: .seconds(2)))?.first
            await watcher.disconnect()
            return message.map { String(decoding: $0.payload, as: UTF8.self) }
        }

        try await poll("status online") { try await retainedStatus()?.contains(#""status":"online""#) == true }
        service.terminate()
        #expect(try await service.waitForExit() == 0)
        let after = try #require(try await retainedStatus())
        #expect(after.contains(#""status":"offline""#))
        #expect(after.contains(#""instance":"status-test""#))
    }

    @Test func killedServiceIsReportedOfflineByItsWill() async throws {
        let prefix = TestEnvironment.uniqueName("uns")
        let topic = "\(prefix)/_svc/stream/status/will-test"
        let broker = try TestEnvironment.mqttBroker()
        let watcher = try MQTTClient(configuration: .init(host: broker.host, port: broker.port,
                                                          clientID: TestEnvironment.uniqueName("w", separator: "-")))
        try await watcher.connect()
        _ = try await watcher.subscribe(to: topic, qos: .atLeastOnce)
        let (service, _) = try await start("stream", instance: "will-test", prefix: prefix)
        let online = try #require(try await watcher.messages.first(1, timeout: .seconds(20)).first)
        #expect(String(decoding: online.payload, as: UTF8.self).contains(#""status":"online""#))

        kill(service.process.processIdentifier, SIGKILL)
        let offline = try #require(try await watcher.messages.first(1, timeout: .seconds(20)).first)
        #expect(String(decoding: offline.payload, as: UTF8.self).contains(#""status":"offline""#))
        await watcher.disconnect()
    }

    @Test func badConfigurationStopsWithAMessageNamingTheKey() async throws {
        let service = try RunningService("stream", arguments: [], environment: ["HTTP_PORT": "eighty"])
        let status = try await service.waitForExit()
        #expect(status != 0)
        #expect(service.logLines.contains { $0.contains("HTTP_PORT") && $0.contains("eighty") })
    }
}
