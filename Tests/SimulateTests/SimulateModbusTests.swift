import Foundation
import Logging
import Modbus
import Testing
@testable import Simulate

/// The plant's Modbus face, read and written by an independent client (pymodbus, Scripts/modbus_client.py).
@Suite(.serialized) struct SimulateModbusTests {
    let plant: Plant

    init() throws {
        plant = try PlantFile.load(path: PlantFileTests.defaultPlantPath)
    }

    /// Serves machine `index` of the default plant on `port` (in the 25000–25999 test range).
    private func serve(_ index: Int, port: Int) async throws -> (MachineEndpoint, ModbusTCPServer) {
        let simulation = PlantSimulation(plant: plant, seed: 21)
        let endpoint = MachineEndpoint(
            machine: plant.machines[index], simulation: simulation.machines[index],
            metrics: ModbusMetrics(machine: plant.machines[index].name))
        endpoint.step(60, now: .now)
        let server = try await ModbusTCPServer.start(
            host: "127.0.0.1", port: port, handler: endpoint,
            logger: Logger(label: "test"))
        return (endpoint, server)
    }

    @Test func machineZeroReadsLikeTheDemoAndSetpointsAndTheRunCoilWork() async throws {
        let (endpoint, server) = try await serve(0, port: 25101)
        let results = try await ModbusClientScript.run(
            port: server.port, unit: 1,
            [
                "hr:0:2", "ir:0:2", "co:0:2", "di:0:8",
                "wr:20:300",  // temperature setpoint 30.0 °C
                "hr:20:1",
                "wr:20:9999",  // 999.9 °C: implausible → exception 3
                "wr:0:1",  // measured value, read-only → exception 2
                "wc:0:0",  // run coil off
                "hr:24:1",  // past the end → exception 2
            ])
        await server.close()
        let demo = try #require(results[0].values)
        #expect((280...310).contains(demo[0]), "temperature × 10 = \(demo[0])")
        #expect((700...730).contains(demo[1]), "humidity × 10 = \(demo[1])")
        #expect(results[1].values == demo, "input registers mirror holding registers")
        #expect(results[2].values == [1, 0], "run coil on, no maintenance request")
        #expect(results[3].values?.count == 8)
        #expect(results[4].values == [])
        #expect(results[5].values == [300])
        #expect(results[6].exception == 3)
        #expect(results[7].exception == 2)
        #expect(results[8].values == [])
        #expect(results[9].exception == 2)
        #expect(endpoint.simulation.temperatureSetpoint == 30)
        #expect(endpoint.simulation.runEnabled == false)
        #expect(endpoint.simulation.state == .stopped)
    }

    @Test func littleEndianMachinesSwapTheWordsOf32BitValues() async throws {
        let (endpoint, server) = try await serve(3, port: 25102)  // cnc-2, little-endian
        endpoint.step(7200, now: .now)
        let results = try await ModbusClientScript.run(port: server.port, unit: 4, ["hr:8:2"])
        await server.close()
        let words = try #require(results[0].values)
        let energy = Float(bitPattern: UInt32(words[1]) << 16 | UInt32(words[0]))
        #expect(abs(Double(energy) - endpoint.simulation.energy) < 0.01, "\(words) → \(energy)")
    }

    @Test func injectedFaultsAreVisibleToTheClient() async throws {
        let (endpoint, server) = try await serve(0, port: 25103)
        func inject(_ kind: String) throws {
            let fault = try FaultCommand(machine: "press-1", kind: kind, duration: 30).fault(in: plant)
            endpoint.inject(fault, now: .now, speed: 1)
        }
        try inject("exception(4)")
        let exception = try await ModbusClientScript.run(port: server.port, unit: 1, ["hr:0:2"])
        #expect(exception[0].exception == 4)

        try inject("out-of-range")
        let corrupt = try await ModbusClientScript.run(port: server.port, unit: 1, ["hr:0:2"])
        #expect(corrupt[0].values == [0x7FFF, 0xFFFF])

        try inject("slow(400)")
        let slow = try await ModbusClientScript.run(port: server.port, unit: 1, ["hr:0:2"])
        #expect(slow[0].values?.count == 2)
        #expect(slow[0].seconds >= 0.39)

        try inject("silent")
        let silent = try await ModbusClientScript.run(port: server.port, unit: 1, ["hr:0:2"])
        #expect(silent[0].timeout != nil, "a silent machine must not answer: \(silent[0])")

        try inject("down(111)")
        let down = try await ModbusClientScript.run(port: server.port, unit: 1, ["hr:2:2"])
        #expect(down[0].values == [MachineState.down.rawValue, 111])
        await server.close()
    }

    @Test func aFaultEndsAfterItsDuration() async throws {
        let (endpoint, server) = try await serve(0, port: 25104)
        let fault = InjectedFault(machine: "press-1", kind: .exception(.serverDeviceBusy), duration: .milliseconds(1))
        endpoint.inject(fault, now: .now - .seconds(1), speed: 1)
        let results = try await ModbusClientScript.run(port: server.port, unit: 1, ["hr:0:1"])
        #expect(results[0].exception == nil)
        await server.close()
    }
}

/// Runs Scripts/modbus_client.py against 127.0.0.1:`port`.
enum ModbusClientScript {
    struct Result: Decodable, Sendable {
        var op: String
        var values: [UInt16]?
        var exception: Int?
        var timeout: String?
        var seconds: Double
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func run(port: Int, unit: Int, _ ops: [String]) async throws -> [Result] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Scripts/modbus_client.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                ProcessInfo.processInfo.environment["PYTHON"] ?? "python3", script,
                "127.0.0.1", "\(port)", "\(unit)",
            ] + ops
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = try await Task.detached { try output.fileHandleForReading.readToEnd() ?? Data() }.value
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if errorText.contains("No module named 'pymodbus'") {
            throw Failure(description: "pymodbus is not installed: run `pip install --user pymodbus==3.8.6`")
        }
        guard process.terminationStatus == 0 else {
            throw Failure(description: "modbus_client.py exited with \(process.terminationStatus): \(errorText)")
        }
        let results = try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Result.self, from: Data($0.utf8))
        }
        guard results.count == ops.count else {
            throw Failure(description: "expected \(ops.count) results, got \(results.count): \(errorText)")
        }
        return results
    }
}
