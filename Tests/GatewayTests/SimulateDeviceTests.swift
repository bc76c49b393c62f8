import Foundation
import Modbus
import Sparkplug
import Testing
import TestSupport

@testable import Gateway

/// The gateway against the real `simulate` binary (built next to the test bundle by `swift build`) serving
/// the default plant, configured by deploy/gateway/default.yaml.
@Suite(.serialized) struct SimulateDeviceTests {
    /// `simulate` from the build directory the tests run from.
    static func simulateBinary() throws -> URL {
        let bundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL
            ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let candidate = bundle.deletingLastPathComponent().appendingPathComponent("simulate")
        guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
            throw TestEnvironment.Missing(description:
                "no simulate binary at \(candidate.path); build it first: swift build --product simulate")
        }
        return candidate
    }

    /// Starts simulate's default plant with its Modbus servers on ten consecutive ports in 26500…26999 and
    /// returns it with the first port; tries another block when one is taken.
    static func startPlant() async throws -> (Process, Int) {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let base = 26500 + Int.random(in: 0..<50) * 10
            do { return (try await startPlant(base: base), base) } catch { lastError = error }
        }
        throw lastError ?? TestEnvironment.Missing(description: "simulate did not start")
    }

    /// Starts simulate's default plant with its Modbus servers on `base`…`base + 9`.
    static func startPlant(base: Int) async throws -> Process {
        let process = Process()
        process.executableURL = try simulateBinary()
        process.arguments = ["--plant", GatewayConfigTests.repository.appendingPathComponent("deploy/plants/default.yaml").path,
                             "--modbus-port", "\(base)", "--http-port", "0", "--mqtt-url", "mqtt://127.0.0.1:1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await TestSupport.poll("simulate serving on \(base)…\(base + 9)", timeout: .seconds(20)) {
            guard process.isRunning else { throw TestEnvironment.Missing(description: "simulate exited early") }
            return OwnBroker.listening(base + 9)
        }
        return process
    }

    /// SIGTERM, then waits (polling) until simulate has exited and been reaped.
    static func stop(_ plant: Process) async throws {
        plant.terminate()
        try await TestSupport.poll("simulate to exit") { !plant.isRunning }
    }

    /// deploy/gateway/default.yaml with the device ports moved from 5020… to `base`….
    static func defaultConfig(base: Int, group: String = "acme-dresden") throws -> String {
        let text = try String(contentsOf: GatewayConfigTests.repository.appendingPathComponent("deploy/gateway/default.yaml"),
                              encoding: .utf8)
        var result = text
        for machine in 0..<10 { result = result.replacingOccurrences(of: "port: \(5020 + machine)", with: "port: \(base + machine)") }
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
        return result.replacingOccurrences(of: "path: gateway-spool.sqlite", with: "path: \(spool)")
            .replacingOccurrences(of: "groupId: acme-dresden", with: "groupId: \(group)")
    }

    @Test func commissioningReadsEveryMachineOfTheDefaultPlant() async throws {
        let (plant, base) = try await Self.startPlant()
        let config = try GatewayConfig(yaml: Self.defaultConfig(base: base))
        let lines = LockedValue<[String]>([])
        let allAnswered = await Gateway.check(config) { line in lines.withLock { $0.append(line) } }
        #expect(allAnswered)
        #expect(!lines.value.contains { $0.contains("not answering") || $0.contains("read refused") })
        // Machine 0 answers like the classic demo: about 28–31 °C.
        let temperature = try #require(lines.value.first { $0.contains("temperature [40001 int16]") })
        let value = try #require(Double(temperature.split(separator: " ")[4]))
        #expect((25.0...35.0).contains(value))
        try await Self.stop(plant)
    }

    @Test func dcmdChangesASimulatedSetpoint() async throws {
        let (host, port) = try broker()
        let (plant, base) = try await Self.startPlant()
        let group = "gw-sim-" + UUID().uuidString.lowercased().prefix(8)
        let recorder = try await SparkplugRecorder(group: group, host: host, port: port)
        let gateway = try await RunningGateway.start(yaml: Self.defaultConfig(base: base, group: group), host: host, port: port)
        try await recorder.wait(for: "DBIRTH of press-1") { $0.verb == .dbirth && $0.device == "press-1" }
        try await recorder.command(.dcmd, edge: "gateway-1", device: "press-1", metrics: [
            Metric(name: "temperatureSetpoint", datatype: .double, value: .double(35.5)),
        ])
        try await recorder.wait(for: "DDATA confirming the setpoint") { seen in
            seen.verb == .ddata && seen.device == "press-1"
                && seen.metrics.contains { $0.name == "temperatureSetpoint" && $0.value == .double(35.5) }
        }
        let client = ModbusTCPClient(host: "127.0.0.1", port: base, timeout: .seconds(1))
        #expect(try await client.send(.readHoldingRegisters(address: 20, count: 1), unit: 1) == .readHoldingRegisters([355]))
        try await gateway.stop()
        await recorder.stop()
        try await Self.stop(plant)
    }
}
