import Modbus

/// The Modbus register map every machine kind shares (documented in docs/register-map.md); the kind decides
/// what the process value (HR 16) and its setpoint (HR 23) mean and how they are scaled.
enum RegisterMap {
    // Holding registers (FC 3, 6, 16); input registers 0…17 (FC 4) mirror holding registers 0…17.
    static let temperature: UInt16 = 0  // int16, °C × 10
    static let humidity: UInt16 = 1  // uint16, %RH × 10
    static let state: UInt16 = 2
    static let alarmCode: UInt16 = 3
    static let goodCount: UInt16 = 4  // uint32, 4–5
    static let scrapCount: UInt16 = 6  // uint32, 6–7
    static let energy: UInt16 = 8  // float32 kWh, 8–9
    static let power: UInt16 = 10  // kW × 10
    static let vibration: UInt16 = 11  // mm/s × 100
    static let lastCycleTime: UInt16 = 12  // s × 100
    static let wear: UInt16 = 13  // % × 10
    static let runningSeconds: UInt16 = 14  // uint32, 14–15
    static let processValue: UInt16 = 16  // × kind scale
    static let hoursSinceMaintenance: UInt16 = 17  // h × 10
    static let temperatureSetpoint: UInt16 = 20  // int16 °C × 10, R/W
    static let humiditySetpoint: UInt16 = 21  // %RH × 10, R/W
    static let cycleTimeSetpoint: UInt16 = 22  // s × 100, R/W
    static let processSetpoint: UInt16 = 23  // × kind scale, R/W
    static let holdingCount = 24
    static let inputCount = 18

    // Coils.
    static let runCoil: UInt16 = 0
    static let maintenanceRequestCoil: UInt16 = 1
    static let coilCount = 2

    // Discrete inputs: 0 running, 1 down, 2 maintenance due, 3 alarm active, 4 starved, 5 blocked, 6 setup,
    // 7 in maintenance.
    static let discreteInputCount = 8

    /// Empty tables with the writable entries marked.
    static func emptyTables() -> ModbusDataTables {
        ModbusDataTables(
            coils: coilCount, discreteInputs: discreteInputCount, holdingRegisters: holdingCount,
            inputRegisters: inputCount, writableCoils: [runCoil, maintenanceRequestCoil],
            writableHoldingRegisters: [temperatureSetpoint, humiditySetpoint, cycleTimeSetpoint, processSetpoint])
    }

    /// The register value of `value × scale`, rounded and clamped into what the register type holds.
    static func scaled(_ value: Double, _ scale: Double, signed: Bool = false) -> UInt16 {
        let raw = (value * scale).rounded()
        if signed { return UInt16(bitPattern: Int16(max(-32768, min(32767, raw.isFinite ? raw : 0)))) }
        return UInt16(max(0, min(65535, raw.isFinite ? raw : 0)))
    }

    /// Writes a machine's current values into its tables (the read-only part and the setpoints).
    static func fill(_ tables: inout ModbusDataTables, from machine: MachineSimulation, order: ModbusWordOrder) {
        let scale = machine.kind.processValue.scale
        var registers = tables.holdingRegisters
        func put32(_ address: UInt16, _ pair: (UInt16, UInt16)) {
            registers[Int(address)] = pair.0
            registers[Int(address) + 1] = pair.1
        }
        registers[Int(temperature)] = scaled(machine.temperature, 10, signed: true)
        registers[Int(humidity)] = scaled(machine.humidity, 10)
        registers[Int(state)] = machine.state.rawValue
        registers[Int(alarmCode)] = machine.alarmCode
        put32(goodCount, order.registers(machine.good))
        put32(scrapCount, order.registers(machine.scrap))
        put32(energy, order.registers(Float(machine.energy)))
        registers[Int(power)] = scaled(machine.power, 10)
        registers[Int(vibration)] = scaled(machine.vibration, 100)
        registers[Int(lastCycleTime)] = scaled(machine.lastCycleTime, 100)
        registers[Int(wear)] = scaled(machine.wear * 100, 10)
        put32(runningSeconds, order.registers(UInt32(min(Double(UInt32.max), machine.runningSeconds))))
        registers[Int(processValue)] = scaled(machine.processValue, scale)
        registers[Int(hoursSinceMaintenance)] = scaled(machine.runningHoursSinceMaintenance, 10)
        registers[Int(temperatureSetpoint)] = scaled(machine.temperatureSetpoint, 10, signed: true)
        registers[Int(humiditySetpoint)] = scaled(machine.humiditySetpoint, 10)
        registers[Int(cycleTimeSetpoint)] = scaled(machine.cycleTimeTarget, 100)
        registers[Int(processSetpoint)] = scaled(machine.processSetpoint, scale)
        tables.holdingRegisters = registers
        tables.inputRegisters = Array(registers[0..<inputCount])
        tables.coils[Int(runCoil)] = machine.runEnabled
        tables.coils[Int(maintenanceRequestCoil)] = machine.maintenanceRequested || machine.state == .maintenance
        tables.discreteInputs = [
            machine.state == .running, machine.state == .down, machine.maintenanceDue, machine.alarmCode != 0,
            machine.state == .starved, machine.state == .blocked, machine.state == .setup,
            machine.state == .maintenance,
        ]
    }

    /// Values a fault injection of kind out-of-range reports instead of the measured ones: beyond any sensor's
    /// range, the way a broken transmitter reads (int16 max for temperature, 0xFFFF for the rest).
    static func corrupt(_ tables: inout ModbusDataTables) {
        tables.holdingRegisters[Int(temperature)] = 0x7FFF
        tables.holdingRegisters[Int(humidity)] = 0xFFFF
        tables.holdingRegisters[Int(vibration)] = 0xFFFF
        tables.holdingRegisters[Int(processValue)] = 0xFFFF
        tables.inputRegisters = Array(tables.holdingRegisters[0..<inputCount])
    }

    /// Whether a client may write `value` to holding register `address` (exception 3 otherwise): setpoints
    /// must stay physically plausible.
    static func accepts(address: UInt16, value: UInt16, kind: MachineKind) -> Bool {
        switch address {
        case temperatureSetpoint: (-400...4000).contains(Int(Int16(bitPattern: value)))
        case humiditySetpoint: value <= 1000
        case cycleTimeSetpoint: value >= 5
        case processSetpoint: true
        default: true
        }
    }

    /// Applies a successful write to the machine: setpoints and coils change its behaviour.
    static func apply(_ request: ModbusRequest, to machine: inout MachineSimulation) {
        let scale = machine.kind.processValue.scale
        func setRegister(_ address: UInt16, _ value: UInt16) {
            switch address {
            case temperatureSetpoint: machine.temperatureSetpoint = Double(Int16(bitPattern: value)) / 10
            case humiditySetpoint: machine.humiditySetpoint = Double(value) / 10
            case cycleTimeSetpoint: machine.cycleTimeTarget = Double(value) / 100
            case processSetpoint: machine.processSetpoint = Double(value) / scale
            default: break
            }
        }
        func setCoil(_ address: UInt16, _ value: Bool) {
            switch address {
            case runCoil: machine.runEnabled = value
            case maintenanceRequestCoil: if value { machine.maintenanceRequested = true }
            default: break
            }
        }
        switch request {
        case .writeSingleRegister(let address, let value): setRegister(address, value)
        case .writeMultipleRegisters(let address, let values):
            for (offset, value) in values.enumerated() { setRegister(address + UInt16(offset), value) }
        case .writeSingleCoil(let address, let value): setCoil(address, value)
        case .writeMultipleCoils(let address, let values):
            for (offset, value) in values.enumerated() { setCoil(address + UInt16(offset), value) }
        default: break
        }
    }
}
