import Foundation
import Logging
import Modbus
import Synchronization
import Testing

/// The server checked by an independent client (pymodbus plus raw sockets, Scripts/modbus_conformance.py):
/// every function code, exceptions 1, 2 and 3, partial and coalesced frames, bad headers, 20 concurrent
/// clients.
@Suite struct ModbusConformanceTests {
    @Test func pymodbusFindsEveryFunctionCodeAndException() async throws {
        let server = try await ModbusTCPServer.start(
            host: "127.0.0.1", port: 25001, handler: PatternDevice(),
            logger: Logger(label: "test"))
        defer { Task { await server.close() } }
        let results = try await PythonScript.run(
            "modbus_conformance.py", arguments: ["127.0.0.1", "\(server.port)", "1"])
        #expect(results.count >= 30, "the script stopped early: \(results)")
        for result in results {
            #expect(result.ok, "\(result.name): \(result.detail)")
        }
        await server.close()
    }

    @Test func closeEndsOpenConnections() async throws {
        let device = PatternDevice()
        let server = try await ModbusTCPServer.start(
            host: "127.0.0.1", port: 25002, handler: device,
            logger: Logger(label: "test"))
        let socket = try TestSocket(port: server.port)
        defer { socket.close() }
        try socket.send(ModbusFrame(transactionID: 1, unitID: 1, pdu: [3, 0, 0, 0, 1]).encoded)
        #expect(try socket.receive().count == 11)
        await server.close()
        #expect(try socket.receive().isEmpty, "the connection should be closed by the server")
    }
}

/// A device whose tables hold the patterns the conformance script expects.
final class PatternDevice: ModbusRequestHandler {
    private let tables: Mutex<ModbusDataTables>

    init() {
        var tables = ModbusDataTables(
            coils: 40, discreteInputs: 30, holdingRegisters: 100, inputRegisters: 50,
            writableCoils: Set(0..<40), writableHoldingRegisters: Set(0..<100))
        tables.holdingRegisters = (0..<100).map { UInt16(3 * $0 + 1) }
        tables.inputRegisters = (0..<50).map { UInt16(1000 + $0) }
        tables.coils = (0..<40).map { $0 % 3 == 0 }
        tables.discreteInputs = (0..<30).map { $0 % 2 == 0 }
        self.tables = Mutex(tables)
    }

    func reply(to request: ModbusRequest, unit: UInt8) -> ModbusReply {
        .respond(tables.withLock { $0.serve(request) })
    }
}
