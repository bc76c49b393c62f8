import Foundation
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

    @Test(arguments: executables)
    func servesHealthAndMetricsThenStopsCleanlyOnSIGTERM(name: String) async throws {
        let service = try RunningService(name, arguments: ["--http-port", "0", "--log-format", "json"],
                                         environment: ["MQTT_URL": ProcessInfo.processInfo.environment["MQTT_URL"]
                                             ?? "mqtt://127.0.0.1:1883"])
        defer { service.terminate() }
        let line = try await service.waitForLog { $0.contains("HTTP server listening") }
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let port = try #require(Int(object?["port"] as? String ?? ""))

        let (health, healthResponse) = try await URLSession.shared.data(
            from: URL(string: "http://127.0.0.1:\(port)/health")!)
        #expect((healthResponse as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: health, as: UTF8.self).contains(#""service":"\#(name)""#))

        let (metrics, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        #expect(String(decoding: metrics, as: UTF8.self).contains("shopfloor_build_info{service=\"\(name)\""))

        service.terminate()  // SIGTERM
        let status = try await service.waitForExit()
        #expect(status == 0)
        #expect(service.logLines.contains { $0.contains("stopped cleanly") })
    }

    @Test func badConfigurationStopsWithAMessageNamingTheKey() async throws {
        let service = try RunningService("stream", arguments: [], environment: ["HTTP_PORT": "eighty"])
        let status = try await service.waitForExit()
        #expect(status != 0)
        #expect(service.logLines.contains { $0.contains("HTTP_PORT") && $0.contains("eighty") })
    }
}
