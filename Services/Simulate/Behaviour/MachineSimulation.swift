import Foundation

/// One machine's behaviour as a pure value stepped by a clock: `step(_:)` advances plant time by any amount,
/// handling every state change and cycle inside it, so tests run simulated days in milliseconds and the same
/// seed and the same steps give the same run.
struct MachineSimulation: Equatable, Sendable {
    let kind: MachineKind
    /// The parameters from the plant file; `nominalTemperature` for scrap stays the file's setpoint even when a
    /// client writes another controller setpoint.
    let behaviour: Behaviour
    private var random: SimulationRandom

    /// Plant time since start, seconds.
    private(set) var time: Double = 0
    private(set) var state: MachineState = .running
    /// Time left in the current state (for running: until the next interruption).
    private(set) var stateRemaining: Double = 0
    private var cycleRemaining: Double = 0
    private var cycleDuration: Double = 0

    // Writable through Modbus.
    /// The run/stop coil.
    var runEnabled = true {
        didSet { if runEnabled != oldValue { applyRunCoil() } }
    }
    var temperatureSetpoint: Double
    var humiditySetpoint: Double
    var cycleTimeTarget: Double
    var processSetpoint: Double
    /// Set by the maintenance-request coil; served at the end of the current cycle or stop.
    var maintenanceRequested = false

    // Measured values.
    private(set) var temperature: Double
    private(set) var humidity: Double
    private(set) var vibration: Double
    private(set) var power: Double = 0
    private(set) var processValue: Double
    private(set) var energy: Double = 0  // kWh
    private(set) var good: UInt32 = 0
    private(set) var scrap: UInt32 = 0
    private(set) var lastCycleTime: Double = 0
    /// 0 = new, 1 = failure.
    private(set) var wear: Double = 0
    private(set) var runningSeconds: Double = 0
    private(set) var runningHoursSinceMaintenance: Double = 0
    /// The fault code while down (0 otherwise).
    private(set) var faultCode: UInt16 = 0

    /// Warning codes the alarm register shows while the machine runs (a fault code wins when down).
    enum Warning {
        static let vibrationHigh: UInt16 = 201
        static let temperatureDeviation: UInt16 = 202
        static let maintenanceDue: UInt16 = 203
    }
    /// The fault code of a wear failure (vibration above `failureVibration`), shared by every kind.
    static let wearFailureCode: UInt16 = 100

    init(kind: MachineKind, behaviour: Behaviour, seed: UInt64, stream: UInt64) {
        self.kind = kind
        self.behaviour = behaviour
        random = SimulationRandom(seed: seed, stream: stream)
        temperatureSetpoint = behaviour.temperatureSetpoint
        humiditySetpoint = behaviour.humiditySetpoint
        cycleTimeTarget = behaviour.cycleTime.mean
        processSetpoint = behaviour.processSetpoint
        temperature = behaviour.temperatureSetpoint
        humidity = behaviour.humiditySetpoint
        vibration = behaviour.baseVibration
        processValue = behaviour.processSetpoint
        // Start somewhere in the wear life so the machines of a plant do not all fail at the same hour.
        wear = random.uniform() * min(0.5, behaviour.wearRate * behaviour.maintenanceInterval)
        runningHoursSinceMaintenance = behaviour.wearRate > 0 ? wear / behaviour.wearRate : 0
        stateRemaining = random.duration(behaviour.runDuration)
        startCycle()
    }

    /// The alarm register: the fault code while down, else the most important active warning, else 0.
    var alarmCode: UInt16 {
        if state == .down { return faultCode }
        if vibration > behaviour.baseVibration + 0.7 * (behaviour.failureVibration - behaviour.baseVibration) {
            return Warning.vibrationHigh
        }
        if abs(temperature - behaviour.temperatureSetpoint) > 2 * behaviour.temperatureTolerance {
            return Warning.temperatureDeviation
        }
        if maintenanceDue { return Warning.maintenanceDue }
        return 0
    }

    /// Planned maintenance is due (by running hours) or wear says it soon will be.
    var maintenanceDue: Bool {
        runningHoursSinceMaintenance >= behaviour.maintenanceInterval || wear >= 0.8
    }

    // MARK: Stepping

    /// Advances plant time by `dt` seconds.
    mutating func step(_ dt: Double) {
        var remaining = dt
        // Continuous values are integrated in slices of at most a minute so their lag follows state changes.
        while remaining > 1e-9 {
            var slice = min(remaining, 60, stateRemaining)
            if state == .running {
                slice = min(slice, cycleRemaining)
                if behaviour.wearRate > 0 { slice = min(slice, max(0, (1 - wear) / behaviour.wearRate * 3600)) }
            }
            slice = max(slice, 0)
            let current = state
            advanceContinuous(slice)
            remaining -= slice
            time += slice
            if current != .stopped { stateRemaining -= slice }
            if current == .running {
                runningSeconds += slice
                runningHoursSinceMaintenance += slice / 3600
                wear += behaviour.wearRate * slice / 3600
                cycleRemaining -= slice
                if wear >= 1 - 1e-12 {
                    goDown(code: Self.wearFailureCode)
                    continue
                }
                if cycleRemaining <= 1e-9 {
                    completeCycle()
                    if state != current { continue }
                }
            }
            if current != .stopped, stateRemaining <= 1e-9 { endState() }
        }
        sampleVibration()
    }

    /// First-order lag toward the state's targets, discretised exactly (an Ornstein–Uhlenbeck process), so the
    /// result does not depend on how a span of time is cut into steps, only on the random draws.
    private mutating func advanceContinuous(_ dt: Double) {
        guard dt > 0 else { return }
        let running = state == .running
        let tau = behaviour.temperatureTimeConstant
        let decay = exp(-dt / tau)
        let spread = (1 - decay * decay).squareRoot()
        // The machine runs at its setpoint and cools by `temperatureRise` while it stands.
        let temperatureTarget = temperatureSetpoint - (running ? 0 : behaviour.temperatureRise)
        temperature =
            temperatureTarget + (temperature - temperatureTarget) * decay
            + behaviour.temperatureNoise * spread * random.normal()
        // Humidity follows the room more slowly than the machine heats.
        let humidityDecay = exp(-dt / (tau * 2))
        humidity =
            humiditySetpoint + (humidity - humiditySetpoint) * humidityDecay
            + behaviour.humidityNoise * (1 - humidityDecay * humidityDecay).squareRoot() * random.normal()
        humidity = min(100, max(0, humidity))

        let processTarget = processSetpoint * (running ? 1 : kind.processValue.idleFraction)
        let processDecay = exp(-dt / 5)
        processValue =
            processTarget + (processValue - processTarget) * processDecay
            + (running ? behaviour.processNoise * (1 - processDecay * processDecay).squareRoot() * random.normal() : 0)
        processValue = max(0, processValue)

        let nominal: Double =
            switch state {
            case .running: behaviour.powerRunning
            case .starved, .blocked, .setup: behaviour.powerIdle
            case .stopped, .down, .maintenance: behaviour.powerIdle * 0.25
            }
        energy += nominal * dt / 3600
        power = nominal
    }

    /// Vibration rises with the square of wear toward `failureVibration`; a stopped machine barely vibrates.
    private mutating func sampleVibration() {
        let level = behaviour.baseVibration + (behaviour.failureVibration - behaviour.baseVibration) * wear * wear
        let noise = 1 + 0.04 * random.normal()
        vibration = max(0, (state == .running ? level : 0.05 * behaviour.baseVibration) * noise)
        power *= 1 + 0.01 * random.normal()
    }

    private mutating func nextCycleTime() -> Double {
        let sd = behaviour.cycleTime.sd * cycleTimeTarget / max(behaviour.cycleTime.mean, 1e-9)
        return max(0.2 * cycleTimeTarget, random.normal(mean: cycleTimeTarget, sd: sd))
    }

    private mutating func startCycle() {
        cycleDuration = nextCycleTime()
        cycleRemaining = cycleDuration
    }

    /// Scrap probability rises with the square of the temperature's deviation from the nominal setpoint.
    var scrapProbability: Double {
        let deviation = (temperature - behaviour.temperatureSetpoint) / behaviour.temperatureTolerance
        return min(0.95, behaviour.scrapRate * (1 + deviation * deviation))
    }

    private mutating func completeCycle() {
        if random.chance(scrapProbability) { scrap &+= 1 } else { good &+= 1 }
        lastCycleTime = cycleDuration
        startCycle()
        let duration = cycleDuration
        // Random failures: a constant hazard per running hour, checked once per cycle.
        if behaviour.randomFailureRate > 0,
            random.chance(1 - exp(-behaviour.randomFailureRate * duration / 3600))
        {
            let codes = kind.faultCodes
            goDown(code: codes[Int(random.uniform() * Double(codes.count)) % codes.count].code)
            return
        }
        if maintenanceRequested || runningHoursSinceMaintenance >= behaviour.maintenanceInterval {
            enter(.maintenance)
        }
    }

    private mutating func endState() {
        switch state {
        case .running:
            let total = behaviour.starvedShare + behaviour.blockedShare + behaviour.setupShare
            let pick = random.uniform() * total
            if pick < behaviour.starvedShare {
                enter(.starved)
            } else if pick < behaviour.starvedShare + behaviour.blockedShare {
                enter(.blocked)
            } else {
                enter(.setup)
            }
        case .down:
            // A wear failure is repaired by replacing the worn part.
            if faultCode == Self.wearFailureCode { resetWear() }
            faultCode = 0
            resume()
        case .maintenance:
            resetWear()
            maintenanceRequested = false
            resume()
        case .starved, .blocked, .setup:
            if maintenanceRequested { enter(.maintenance) } else { resume() }
        case .stopped:
            break
        }
    }

    private mutating func resetWear() {
        wear = 0
        runningHoursSinceMaintenance = 0
    }

    /// Back to running, or to stopped when the run coil is off.
    private mutating func resume() {
        if runEnabled {
            enter(.running)
        } else {
            state = .stopped
            stateRemaining = .infinity
        }
    }

    private mutating func enter(_ next: MachineState) {
        state = next
        switch next {
        case .running:
            stateRemaining = random.duration(behaviour.runDuration)
            startCycle()
        case .starved: stateRemaining = random.duration(behaviour.starvedDuration)
        case .blocked: stateRemaining = random.duration(behaviour.blockedDuration)
        case .setup: stateRemaining = random.duration(behaviour.setupDuration)
        case .down: stateRemaining = random.duration(behaviour.repairDuration)
        case .maintenance: stateRemaining = random.duration(behaviour.maintenanceDuration)
        case .stopped: stateRemaining = .infinity
        }
    }

    private mutating func goDown(code: UInt16) {
        faultCode = code
        enter(.down)
    }

    /// Fault injection: down with `code` for `duration` plant seconds, whatever the machine was doing.
    mutating func forceDown(code: UInt16, duration: Double) {
        faultCode = code
        state = .down
        stateRemaining = max(duration, 0.001)
    }

    /// The run coil: off stops a producing or idle machine at once (a fault or maintenance finishes first);
    /// on restarts a stopped one.
    private mutating func applyRunCoil() {
        if runEnabled {
            if state == .stopped { enter(.running) }
        } else if [.running, .starved, .blocked, .setup].contains(state) {
            state = .stopped
            stateRemaining = .infinity
        }
    }
}
