import Foundation
import Modbus
import Testing
@testable import Simulate

/// Machine behaviour over simulated hours and days (no sleeping: the simulation is stepped).
@Suite struct BehaviourTests {
    let plant: Plant

    init() throws {
        plant = try PlantFile.load(path: PlantFileTests.defaultPlantPath)
    }

    @Test func sameSeedGivesTheSameRunAndAnotherSeedAnother() {
        var a = PlantSimulation(plant: plant, seed: 42)
        var b = PlantSimulation(plant: plant, seed: 42)
        var c = PlantSimulation(plant: plant, seed: 43)
        for _ in 0..<7200 {
            a.step(1)
            b.step(1)
            c.step(1)
        }
        #expect(a == b)
        #expect(a.machines.map(\.good) != c.machines.map(\.good))
    }

    @Test func machineZeroAnswersLikeTheClassicDemo() {
        var machine = PlantSimulation(plant: plant, seed: 7).machines[0]
        var temperatures: [UInt16] = [], humidities: [UInt16] = []
        var tables = RegisterMap.emptyTables()
        for _ in 0..<(12 * 360) {  // 12 h, sampled every 10 s
            machine.step(10)
            RegisterMap.fill(&tables, from: machine, order: .bigEndian)
            temperatures.append(tables.holdingRegisters[0])
            humidities.append(tables.holdingRegisters[1])
        }
        let temperatureInRange = temperatures.filter { (280...310).contains($0) }.count
        let humidityInRange = humidities.filter { (700...730).contains($0) }.count
        #expect(
            Double(temperatureInRange) / Double(temperatures.count) > 0.995,
            "\(temperatures.min() ?? 0)…\(temperatures.max() ?? 0)")
        #expect(
            Double(humidityInRange) / Double(humidities.count) > 0.995,
            "\(humidities.min() ?? 0)…\(humidities.max() ?? 0)")
        #expect(Set(temperatures).count > 10, "the value must move, not be constant")
    }

    @Test func statisticsOverADayStayInTheirConfiguredRanges() {
        var simulation = PlantSimulation(plant: plant, seed: 1)
        let count = plant.machines.count
        var running = [Double](repeating: 0, count: count)
        var temperatureSum = [Double](repeating: 0, count: count)
        var temperatureSquares = [Double](repeating: 0, count: count)
        var samples = 0.0
        var statesSeen = [Set<MachineState>](repeating: [], count: count)
        for _ in 0..<(24 * 3600 / 5) {
            simulation.step(5)
            samples += 1
            for (index, machine) in simulation.machines.enumerated() {
                if machine.state == .running { running[index] += 1 }
                temperatureSum[index] += machine.temperature
                temperatureSquares[index] += machine.temperature * machine.temperature
                statesSeen[index].insert(machine.state)
            }
        }
        for (index, machine) in simulation.machines.enumerated() {
            let b = machine.behaviour
            let name = plant.machines[index].name
            let availability = running[index] / samples
            #expect((0.4...0.97).contains(availability), "\(name) ran \(availability) of the day")
            let mean = temperatureSum[index] / samples
            let sd = (temperatureSquares[index] / samples - mean * mean).squareRoot()
            #expect(
                mean <= b.temperatureSetpoint + 3 * b.temperatureNoise
                    && mean >= b.temperatureSetpoint - b.temperatureRise - 3 * b.temperatureNoise,
                "\(name) mean temperature \(mean) vs setpoint \(b.temperatureSetpoint)")
            #expect(sd <= b.temperatureRise / 2 + 2 * b.temperatureNoise, "\(name) temperature sd \(sd)")
            // Cycles: count matches running time / mean cycle time within 5 %.
            let cycles = Double(machine.good + machine.scrap)
            let expected = machine.runningSeconds / b.cycleTime.mean
            #expect(abs(cycles - expected) / expected < 0.05, "\(name): \(cycles) cycles, expected ≈ \(expected)")
            let scrapShare = Double(machine.scrap) / cycles
            #expect(scrapShare >= b.scrapRate * 0.5 && scrapShare <= b.scrapRate * 3, "\(name) scrap \(scrapShare)")
            #expect(
                statesSeen[index].isSuperset(of: [.running, .starved, .blocked]), "\(name) saw \(statesSeen[index])")
            // Energy: between all-idle and all-running.
            let hours = 24.0
            #expect(
                machine.energy > b.powerIdle * 0.25 * hours && machine.energy < b.powerRunning * hours,
                "\(name) energy \(machine.energy) kWh")
        }
    }

    @Test func vibrationDriftsUpWithWearUntilFailureThenRepairResetsIt() {
        // press-2 wears out after about 50 running hours, before its planned maintenance at 120 h.
        var machine = PlantSimulation(plant: plant, seed: 3).machines[1]
        var vibrationBeforeFailure: [Double] = []
        var failed = false
        var afterRepair: Double?
        for _ in 0..<(10 * 24 * 60) {  // ten days, minute steps
            let wasDown = machine.state == .down
            machine.step(60)
            if machine.state == .running, !failed { vibrationBeforeFailure.append(machine.vibration) }
            if machine.state == .down, machine.faultCode == MachineSimulation.wearFailureCode { failed = true }
            if failed, wasDown, machine.state == .running, afterRepair == nil { afterRepair = machine.vibration }
        }
        #expect(failed, "press-2 should fail from wear within ten days")
        let early = vibrationBeforeFailure.prefix(60).reduce(0, +) / 60
        let late = vibrationBeforeFailure.suffix(60).reduce(0, +) / 60
        #expect(late > early * 2, "vibration should drift up: \(early) → \(late)")
        #expect(late > 0.6 * machine.behaviour.failureVibration)
        #expect(afterRepair != nil, "press-2 should be repaired and run again")
        #expect((afterRepair ?? 99) < machine.behaviour.baseVibration * 1.5, "repair replaces the worn part")
    }

    @Test func plannedMaintenancePreventsWearFailures() {
        var behaviour = MachineKind.packer.defaultBehaviour
        behaviour.wearRate = 0.02  // 50 running hours to failure ...
        behaviour.maintenanceInterval = 20  // ... maintained every 20
        behaviour.randomFailureRate = 0
        var machine = MachineSimulation(kind: .packer, behaviour: behaviour, seed: 9, stream: 0)
        var maintenances = 0
        var previous = machine.state
        for _ in 0..<(14 * 24 * 60) {
            machine.step(60)
            #expect(machine.state != .down)
            #expect(machine.wear < 0.6)
            if machine.state == .maintenance, previous != .maintenance { maintenances += 1 }
            previous = machine.state
        }
        #expect(maintenances >= 5)
    }

    @Test func runCoilStopsAndRestartsProduction() {
        var machine = PlantSimulation(plant: plant, seed: 5).machines[0]
        machine.step(600)
        machine.runEnabled = false
        let count = machine.good + machine.scrap
        let energy = machine.energy
        machine.step(600)
        #expect(machine.state == .stopped)
        #expect(machine.good + machine.scrap == count)
        #expect((machine.energy - energy) < machine.behaviour.powerIdle * 0.25 * (600.0 / 3600) * 1.01)
        machine.runEnabled = true
        machine.step(600)
        #expect(machine.good + machine.scrap > count)
    }

    @Test func aTemperatureSetpointOffTheProcessWindowRaisesScrap() {
        var normal = PlantSimulation(plant: plant, seed: 11).machines[5]  // filler-1
        var hot = normal
        hot.temperatureSetpoint += 6
        for _ in 0..<(8 * 60) {
            normal.step(60)
            hot.step(60)
        }
        let normalShare = Double(normal.scrap) / Double(normal.good + normal.scrap)
        let hotShare = Double(hot.scrap) / Double(hot.good + hot.scrap)
        #expect(abs(hot.temperature - (normal.temperatureSetpoint + 6)) < 2)
        #expect(hotShare > normalShare * 3, "scrap \(normalShare) → \(hotShare)")
    }

    @Test func registersFollowTheWordOrderOfTheMachine() {
        let machine = PlantSimulation(plant: plant, seed: 5).machines[0]
        var big = RegisterMap.emptyTables(), little = RegisterMap.emptyTables()
        var stepped = machine
        stepped.step(3600)
        RegisterMap.fill(&big, from: stepped, order: .bigEndian)
        RegisterMap.fill(&little, from: stepped, order: .littleEndian)
        let good = big.holdingRegisters
        #expect(ModbusWordOrder.bigEndian.value(good[4], good[5]) == stepped.good)
        #expect(little.holdingRegisters[4] == good[5] && little.holdingRegisters[5] == good[4])
        let energy = ModbusWordOrder.littleEndian.float(little.holdingRegisters[8], little.holdingRegisters[9])
        #expect(abs(Double(energy) - stepped.energy) < 0.01)
    }
}
