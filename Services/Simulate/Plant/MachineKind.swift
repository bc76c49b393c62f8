/// The kinds of machine the simulator knows. Each kind brings default behaviour, a process value with its own
/// register scaling (press force, spindle speed, …) and the fault codes it can go down with.
enum MachineKind: String, CaseIterable, Sendable {
    case press
    case cnc
    case filler
    case packer
    case compressor

    /// The kind-specific measured value (holding register 16) and its setpoint (holding register 23).
    struct ProcessValue: Sendable {
        var name: String
        var unit: String
        /// Register value = engineering value × scale.
        var scale: Double
        /// Fraction of the setpoint the value settles at while the machine does not run.
        var idleFraction: Double
    }

    var processValue: ProcessValue {
        switch self {
        case .press: ProcessValue(name: "press force", unit: "kN", scale: 10, idleFraction: 0)
        case .cnc: ProcessValue(name: "spindle speed", unit: "rpm", scale: 1, idleFraction: 0)
        case .filler: ProcessValue(name: "fill volume", unit: "ml", scale: 10, idleFraction: 0)
        case .packer: ProcessValue(name: "film tension", unit: "N", scale: 10, idleFraction: 0.2)
        case .compressor: ProcessValue(name: "outlet pressure", unit: "bar", scale: 100, idleFraction: 0.85)
        }
    }

    /// Fault codes a random (not wear) failure picks from, with their meaning; 100 is the wear failure every
    /// kind shares.
    var faultCodes: [(code: UInt16, text: String)] {
        switch self {
        case .press: [(110, "hydraulic pressure low"), (111, "die jam"), (112, "light curtain interrupted")]
        case .cnc: [(120, "tool breakage"), (121, "coolant low"), (122, "axis following error")]
        case .filler: [(130, "nozzle blocked"), (131, "product tank empty"), (132, "bottle jam")]
        case .packer: [(140, "film break"), (141, "carton magazine empty"), (142, "sealing jaw overtemperature")]
        case .compressor: [(150, "oil temperature high"), (151, "motor overload"), (152, "inlet filter clogged")]
        }
    }

    /// Behaviour of a typical machine of this kind; the plant file overrides any parameter per machine.
    var defaultBehaviour: Behaviour {
        var b = Behaviour()
        switch self {
        case .press:
            b.temperatureSetpoint = 29.5; b.temperatureRise = 0.6; b.humiditySetpoint = 71.5
            b.cycleTime = Distribution(mean: 4, sd: 0.3); b.powerRunning = 45; b.powerIdle = 6
            b.processSetpoint = 850; b.processNoise = 12
        case .cnc:
            b.temperatureSetpoint = 22; b.temperatureRise = 3; b.humiditySetpoint = 45
            b.cycleTime = Distribution(mean: 95, sd: 6); b.powerRunning = 18; b.powerIdle = 2.5
            b.processSetpoint = 12000; b.processNoise = 60
            b.setupDuration = Distribution(mean: 2400, sd: 900)
        case .filler:
            b.temperatureSetpoint = 6; b.temperatureRise = 0.8; b.humiditySetpoint = 60
            b.cycleTime = Distribution(mean: 1.2, sd: 0.08); b.powerRunning = 12; b.powerIdle = 3
            b.processSetpoint = 500; b.processNoise = 1.5
        case .packer:
            b.temperatureSetpoint = 25; b.temperatureRise = 1.5; b.humiditySetpoint = 50
            b.cycleTime = Distribution(mean: 2.5, sd: 0.2); b.powerRunning = 9; b.powerIdle = 1.5
            b.processSetpoint = 40; b.processNoise = 0.8
        case .compressor:
            b.temperatureSetpoint = 35; b.temperatureRise = 8; b.humiditySetpoint = 40
            b.cycleTime = Distribution(mean: 30, sd: 3); b.powerRunning = 75; b.powerIdle = 12
            b.processSetpoint = 7.5; b.processNoise = 0.05
            b.starvedShare = 0.1; b.blockedShare = 0.6; b.setupShare = 0.05
        }
        return b
    }
}
