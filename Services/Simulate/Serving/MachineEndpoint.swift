import Metrics
import Modbus
import Synchronization

/// One machine as the outside sees it: its behaviour, its Modbus tables and any fault injected into it, under
/// one lock. The plant clock steps it; Modbus connections (on NIO event loops) read and write it. Every
/// critical section is short and never waits, so the event loops are never blocked for long.
final class MachineEndpoint: ModbusRequestHandler {
    let name: String
    let unitID: UInt8
    let kind: MachineKind
    let wordOrder: ModbusWordOrder
    private let cell: Mutex<Cell>
    private let metrics: ModbusMetrics

    private struct Cell {
        var simulation: MachineSimulation
        var tables: ModbusDataTables
        var fault: (fault: InjectedFault, until: ContinuousClock.Instant)?
    }

    init(machine: Plant.Machine, simulation: MachineSimulation, metrics: ModbusMetrics) {
        name = machine.name
        unitID = machine.unitID
        kind = machine.kind
        wordOrder = machine.wordOrder
        self.metrics = metrics
        var tables = RegisterMap.emptyTables()
        RegisterMap.fill(&tables, from: simulation, order: machine.wordOrder)
        cell = Mutex(Cell(simulation: simulation, tables: tables, fault: nil))
    }

    /// Advances the machine by `dt` plant seconds and refreshes its registers.
    func step(_ dt: Double, now: ContinuousClock.Instant) {
        cell.withLock { cell in
            cell.simulation.step(dt)
            if let active = cell.fault, active.until <= now { cell.fault = nil }
            refresh(&cell)
        }
    }

    private func refresh(_ cell: inout Cell) {
        RegisterMap.fill(&cell.tables, from: cell.simulation, order: wordOrder)
        if case .outOfRange = cell.fault?.fault.kind { RegisterMap.corrupt(&cell.tables) }
    }

    /// A copy of the machine's behaviour state, for status and tests.
    var simulation: MachineSimulation { cell.withLock { $0.simulation } }

    /// Injects `fault` until `now + duration`; a fault of kind down also takes the machine down for that long
    /// (in plant time, so `speed` applies).
    func inject(_ fault: InjectedFault, now: ContinuousClock.Instant, speed: Double) {
        cell.withLock { cell in
            cell.fault = (fault, now + fault.duration)
            if case .down(let code) = fault.kind {
                let seconds =
                    Double(fault.duration.components.seconds)
                    + Double(fault.duration.components.attoseconds) / 1e18
                cell.simulation.forceDown(code: code, duration: seconds * speed)
            }
            refresh(&cell)
        }
    }

    func reply(to request: ModbusRequest, unit: UInt8) -> ModbusReply {
        let function = request.functionCode.rawValue
        metrics.request(function)
        // Unit 0 and 255 mean "whoever is at this address" on Modbus TCP; another unit id is not here.
        guard unit == unitID || unit == 0 || unit == 255 else {
            return answer(.exception(function: function, code: .gatewayTargetFailedToRespond))
        }
        let (response, delay) = cell.withLock { cell -> (ModbusResponse?, Duration?) in
            if let active = cell.fault, active.until <= .now { cell.fault = nil }
            switch cell.fault?.fault.kind {
            case .silent: return (nil, nil)
            case .exception(let code): return (.exception(function: function, code: code), nil)
            case .slow(let delay): return (serve(request, in: &cell), delay)
            default: return (serve(request, in: &cell), nil)
            }
        }
        guard let response else { return .noResponse }
        if let delay { return answer(response, after: delay) }
        return answer(response)
    }

    func reply(toInvalid exception: ModbusResponse, unit: UInt8) -> ModbusReply {
        if case .exception(let function, _) = exception { metrics.request(function) }
        return answer(exception)
    }

    func connectionOpened() { metrics.connections.increment() }
    func connectionClosed() { metrics.connections.decrement() }

    private func answer(_ response: ModbusResponse, after delay: Duration? = nil) -> ModbusReply {
        if let code = response.exceptionCode { metrics.exception(code.rawValue) }
        if let delay { return .respondAfter(delay, response) }
        return .respond(response)
    }

    /// Serves a request from the tables; a successful write also changes the machine.
    private func serve(_ request: ModbusRequest, in cell: inout Cell) -> ModbusResponse {
        switch request {
        case .writeSingleRegister(let address, let value):
            guard RegisterMap.accepts(address: address, value: value, kind: kind) else {
                return .exception(function: 6, code: .illegalDataValue)
            }
        case .writeMultipleRegisters(let address, let values):
            for (offset, value) in values.enumerated()
            where !RegisterMap.accepts(address: address &+ UInt16(offset), value: value, kind: kind) {
                return .exception(function: 16, code: .illegalDataValue)
            }
        default:
            break
        }
        let response = cell.tables.serve(request)
        if response.exceptionCode == nil {
            switch request {
            case .writeSingleCoil, .writeSingleRegister, .writeMultipleCoils, .writeMultipleRegisters:
                RegisterMap.apply(request, to: &cell.simulation)
                refresh(&cell)
            default: break
            }
        }
        return response
    }
}

/// The Modbus counters `/metrics` shows, created once so a request only increments (no label lookup).
struct ModbusMetrics: Sendable {
    private let requests: [UInt8: Counter]
    private let otherRequests: Counter
    private let exceptions: [UInt8: Counter]
    private let otherExceptions: Counter
    let connections: Meter

    init(machine: String) {
        func requestCounter(_ function: String) -> Counter {
            Counter(
                label: "simulate_modbus_requests_total", dimensions: [("machine", machine), ("function", function)])
        }
        func exceptionCounter(_ code: String) -> Counter {
            Counter(label: "simulate_modbus_exceptions_total", dimensions: [("machine", machine), ("code", code)])
        }
        requests = Dictionary(
            uniqueKeysWithValues: ModbusFunctionCode.allCases.map {
                ($0.rawValue, requestCounter("\($0.rawValue)"))
            })
        otherRequests = requestCounter("other")
        exceptions = Dictionary(
            uniqueKeysWithValues: [1, 2, 3, 4, 6, 11].map { (UInt8($0), exceptionCounter("\($0)")) })
        otherExceptions = exceptionCounter("other")
        connections = Meter(label: "simulate_modbus_connections", dimensions: [("machine", machine)])
    }

    func request(_ function: UInt8) { (requests[function] ?? otherRequests).increment() }
    func exception(_ code: UInt8) { (exceptions[code] ?? otherExceptions).increment() }
}
