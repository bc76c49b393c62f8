import Foundation
import Modbus
import Sparkplug
import Testing
import TestSupport

@testable import Gateway

/// The client and the poller against an independent implementation: a pymodbus server (python3 with
/// pymodbus installed, as CI provides for the simulate conformance tests).
@Suite(.serialized) struct PymodbusServerTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/pymodbus_server.py")

    static func start() async throws -> (ChildProcess, Int) {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Int.random(in: 26400...26499)
            let process = try ChildProcess(["python3", script.path, "\(port)"])
            do {
                try await TestSupport.poll("pymodbus on \(port)", timeout: .seconds(15)) {
                    guard process.isRunning else {
                        throw TestEnvironment.Missing(description: "pymodbus server exited (is pymodbus installed? port \(port) taken?)")
                    }
                    return OwnBroker.listening(port)
                }
                return (process, port)
            } catch {
                lastError = error
                try? await process.stop()
            }
        }
        throw lastError ?? TestEnvironment.Missing(description: "pymodbus server did not start")
    }

    static func stop(_ process: ChildProcess) async throws {
        try await process.stop()
    }

    @Test func pollerDecodesWhatPymodbusServes() async throws {
        let (server, port) = try await Self.start()
        let config = try GatewayConfig(yaml: """
            groupId: g
            edgeNodeId: e
            devices:
              - name: pymodbus
                host: 127.0.0.1
                port: \(port)
                tags:
                  - {name: signed, address: 40001, type: int16}
                  - {name: wide, address: 40002, type: uint32}
                  - {name: real, address: 40004, type: float32}
                  - {name: label, address: 40011, type: string, length: 2}
                  - {name: coil, address: "00001"}
                  - {name: input, address: 10003}
                  - {name: measured, address: {area: input, offset: 5}, scale: 0.1}
            """)
        let poller = DevicePoller(index: 0, device: config.devices[0], pollGroups: config.pollGroups,
                                  maxGap: config.maxGap, logger: .init(label: "test"))
        let values = try await poller.readAll().get().values
        let byName = Dictionary(uniqueKeysWithValues: values.map { (config.devices[0].tags[$0.0].name, $0.1) })
        #expect(byName["signed"] == .int16(-200))
        #expect(byName["wide"] == .uint32(65538))
        #expect(byName["real"] == .float(12.5))
        #expect(byName["label"] == .string("ABC"))
        #expect(byName["coil"] == .boolean(true))
        #expect(byName["input"] == .boolean(true))
        #expect(byName["measured"] == .double(123.4))
        // HR 0…11 with a gap of 5 registers: one read (maxGap 8); plus coils, discrete inputs, input registers.
        #expect(poller.groups[0].plan.reads.count == 4)
        await poller.client.close()
        try await Self.stop(server)
    }

    @Test func clientWritesAndExceptionsAgainstPymodbus() async throws {
        let (server, port) = try await Self.start()
        let client = ModbusTCPClient(host: "127.0.0.1", port: port, timeout: .seconds(1))
        #expect(try await client.send(.writeMultipleRegisters(address: 20, values: [7, 8, 9]), unit: 1)
                == .writeMultipleRegisters(address: 20, count: 3))
        #expect(try await client.send(.writeSingleRegister(address: 23, value: 10), unit: 1) == .writeSingleRegister(address: 23, value: 10))
        #expect(try await client.send(.readHoldingRegisters(address: 20, count: 4), unit: 1) == .readHoldingRegisters([7, 8, 9, 10]))
        #expect(try await client.send(.writeMultipleCoils(address: 10, values: [true, true, false]), unit: 1)
                == .writeMultipleCoils(address: 10, count: 3))
        #expect(try await client.send(.writeSingleCoil(address: 13, value: true), unit: 1) == .writeSingleCoil(address: 13, value: true))
        #expect(try await client.send(.readCoils(address: 10, count: 4), unit: 1) == .readCoils([true, true, false, true]))
        do {
            _ = try await client.send(.readHoldingRegisters(address: 98, count: 10), unit: 1)
            Issue.record("pymodbus served registers past its table")
        } catch {
            #expect(error.code == .deviceException && error.exception == .illegalDataAddress)
        }
        await client.close()
        try await Self.stop(server)
    }
}
