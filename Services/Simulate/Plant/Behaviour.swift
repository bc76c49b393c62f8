/// The behaviour parameters of one machine: setpoints, noise, cycle time, state durations, wear and energy.
/// Times are in seconds unless the name says hours; temperatures in °C, humidity in %RH, power in kW.
struct Behaviour: Equatable, Sendable {
    var temperatureSetpoint = 25.0
    /// Deviation from the setpoint at which the scrap rate has doubled.
    var temperatureTolerance = 1.5
    /// How much cooler the machine gets while it stands (it runs at the setpoint).
    var temperatureRise = 1.0
    /// Standard deviation of the temperature around its target.
    var temperatureNoise = 0.25
    /// First-order lag of temperature and humidity toward their targets.
    var temperatureTimeConstant = 300.0
    var humiditySetpoint = 50.0
    var humidityNoise = 0.3
    var cycleTime = Distribution(mean: 10, sd: 1)
    /// Scrap probability per cycle at the nominal temperature.
    var scrapRate = 0.01
    /// Running time between two interruptions (starved, blocked or changeover).
    var runDuration = Distribution(mean: 1800, sd: 900)
    var starvedDuration = Distribution(mean: 180, sd: 120)
    var blockedDuration = Distribution(mean: 120, sd: 90)
    var setupDuration = Distribution(mean: 900, sd: 300)
    var repairDuration = Distribution(mean: 2700, sd: 1500)
    var maintenanceDuration = Distribution(mean: 3600, sd: 600)
    /// Relative weights of the interruption kinds.
    var starvedShare = 0.45
    var blockedShare = 0.35
    var setupShare = 0.2
    /// Wear gained per running hour; the machine fails at wear 1.
    var wearRate = 0.01
    /// Running hours between planned maintenances (which reset wear).
    var maintenanceInterval = 80.0
    /// Vibration of a new machine and the vibration at which it fails (mm/s RMS, ISO 10816 style).
    var baseVibration = 1.8
    var failureVibration = 11.0
    /// Random (not wear) failures per running hour.
    var randomFailureRate = 0.02
    var powerRunning = 20.0
    var powerIdle = 4.0
    /// The kind's process value (see `MachineKind.ProcessValue`) and its noise.
    var processSetpoint = 100.0
    var processNoise = 1.0

    /// One parameter as the plant file spells it, with the values it accepts.
    struct Parameter: Sendable {
        enum Access: Sendable {
            case number(any WritableKeyPath<Behaviour, Double> & Sendable)
            case distribution(any WritableKeyPath<Behaviour, Distribution> & Sendable)
        }
        var key: String
        var access: Access
        var range: ClosedRange<Double>
        var unit: String
    }

    /// Every parameter a plant file may set under `behaviour:`.
    static let parameters: [Parameter] = [
        .init(key: "temperatureSetpoint", access: .number(\.temperatureSetpoint), range: -40...400, unit: "°C"),
        .init(key: "temperatureTolerance", access: .number(\.temperatureTolerance), range: 0.01...100, unit: "°C"),
        .init(key: "temperatureRise", access: .number(\.temperatureRise), range: 0...200, unit: "°C"),
        .init(key: "temperatureNoise", access: .number(\.temperatureNoise), range: 0...20, unit: "°C"),
        .init(key: "temperatureTimeConstant", access: .number(\.temperatureTimeConstant), range: 1...86400, unit: "s"),
        .init(key: "humiditySetpoint", access: .number(\.humiditySetpoint), range: 0...100, unit: "%RH"),
        .init(key: "humidityNoise", access: .number(\.humidityNoise), range: 0...20, unit: "%RH"),
        .init(key: "cycleTime", access: .distribution(\.cycleTime), range: 0.05...3600, unit: "s"),
        .init(key: "scrapRate", access: .number(\.scrapRate), range: 0...0.5, unit: "probability"),
        .init(key: "runDuration", access: .distribution(\.runDuration), range: 1...604_800, unit: "s"),
        .init(key: "starvedDuration", access: .distribution(\.starvedDuration), range: 1...86400, unit: "s"),
        .init(key: "blockedDuration", access: .distribution(\.blockedDuration), range: 1...86400, unit: "s"),
        .init(key: "setupDuration", access: .distribution(\.setupDuration), range: 1...86400, unit: "s"),
        .init(key: "repairDuration", access: .distribution(\.repairDuration), range: 1...604_800, unit: "s"),
        .init(key: "maintenanceDuration", access: .distribution(\.maintenanceDuration), range: 1...604_800, unit: "s"),
        .init(key: "starvedShare", access: .number(\.starvedShare), range: 0...1, unit: "weight"),
        .init(key: "blockedShare", access: .number(\.blockedShare), range: 0...1, unit: "weight"),
        .init(key: "setupShare", access: .number(\.setupShare), range: 0...1, unit: "weight"),
        .init(key: "wearRate", access: .number(\.wearRate), range: 0...10, unit: "per running hour"),
        .init(key: "maintenanceInterval", access: .number(\.maintenanceInterval), range: 0.1...100_000, unit: "h"),
        .init(key: "baseVibration", access: .number(\.baseVibration), range: 0...100, unit: "mm/s"),
        .init(key: "failureVibration", access: .number(\.failureVibration), range: 0.1...200, unit: "mm/s"),
        .init(key: "randomFailureRate", access: .number(\.randomFailureRate), range: 0...100, unit: "per running hour"),
        .init(key: "powerRunning", access: .number(\.powerRunning), range: 0...10000, unit: "kW"),
        .init(key: "powerIdle", access: .number(\.powerIdle), range: 0...10000, unit: "kW"),
        .init(key: "processSetpoint", access: .number(\.processSetpoint), range: 0...60000, unit: "kind unit"),
        .init(key: "processNoise", access: .number(\.processNoise), range: 0...10000, unit: "kind unit"),
    ]
}
