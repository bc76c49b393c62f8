import Logging
import Modbus
import Synchronization

/// An in-process Modbus TCP device for the integration tests: real tables served by `ModbusTCPServer`, with
/// switches to make it go silent (a device that stopped answering) or refuse writes.
final class TestDevice: ModbusRequestHandler {
    let tables: Mutex<ModbusDataTables>
    let silent = Mutex(false)
    let requests = Mutex<[ModbusRequest]>([])
    /// When set, every read of holding registers first increments register 2 (a counter that changes on
    /// every poll, so every poll produces a DDATA).
    let counting = Mutex(false)
    /// With `counting`: how many registers from 10 on also increment on every read (load for the tests).
    let churn = Mutex(0)
    /// Holding-register reads starting at these addresses get exception 2 (illegal data address), as a
    /// device refuses a block it does not serve; the other reads are answered.
    let refusing = Mutex<Set<UInt16>>([])

    init() {
        tables = Mutex(ModbusDataTables(coils: 16, discreteInputs: 16, holdingRegisters: 64, inputRegisters: 64,
                                        writableCoils: Set(0..<16), writableHoldingRegisters: Set(0..<64)))
    }

    func reply(to request: ModbusRequest, unit: UInt8) -> ModbusReply {
        if silent.withLock({ $0 }) { return .noResponse }
        requests.withLock { $0.append(request) }
        if case .readHoldingRegisters(let address, _) = request, refusing.withLock({ $0.contains(address) }) {
            return .respond(.exception(function: request.functionCode.rawValue, code: .illegalDataAddress))
        }
        let count = counting.withLock { $0 }
        let churn = self.churn.withLock { $0 }
        return .respond(tables.withLock { tables in
            if count, case .readHoldingRegisters = request {
                tables.holdingRegisters[2] &+= 1
                for register in 10..<min(10 + churn, 64) { tables.holdingRegisters[register] &+= 1 }
            }
            return tables.serve(request)
        })
    }

    func setRegister(_ address: Int, _ value: UInt16) { tables.withLock { $0.holdingRegisters[address] = value } }
    func register(_ address: Int) -> UInt16 { tables.withLock { $0.holdingRegisters[address] } }
    func coil(_ address: Int) -> Bool { tables.withLock { $0.coils[address] } }

    /// Starts the device on a free port in 26000…26399 (simulate plants in the tests take 26500…26999).
    static func start() async throws -> (TestDevice, ModbusTCPServer) {
        let device = TestDevice()
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                let server = try await ModbusTCPServer.start(host: "127.0.0.1", port: Int.random(in: 26000...26399),
                                                             handler: device, logger: Logger(label: "test.device"))
                return (device, server)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? ModbusError(.bindFailed, "no free port in 26000…26399")
    }
}
