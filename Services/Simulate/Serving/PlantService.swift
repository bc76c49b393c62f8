import Logging
import Modbus
import ServiceLifecycle
import ServiceRuntime

/// Runs the plant: serves every machine over Modbus TCP, steps the behaviour with wall time × speed, plays
/// the scenario, and closes every listener on graceful shutdown.
final class PlantService: Service {
    let plant: Plant
    let config: SimulateConfig
    let endpoints: [MachineEndpoint]
    private let scenario: [(at: Duration, fault: InjectedFault)]
    private let health: HealthChecks
    private let logger: Logger
    private let faultReporter: any FaultReporter

    /// Plant seconds per tick are fixed (tick × speed), so a run's behaviour depends only on the seed and the
    /// number of ticks, not on scheduling jitter.
    static let tick = Duration.milliseconds(100)

    init(
        plant: Plant, config: SimulateConfig, scenario: [(at: Duration, fault: InjectedFault)],
        health: HealthChecks, faultReporter: any FaultReporter, logger: Logger
    ) {
        self.plant = plant
        self.config = config
        self.scenario = scenario
        self.health = health
        self.faultReporter = faultReporter
        self.logger = logger
        let simulation = PlantSimulation(plant: plant, seed: config.seed)
        endpoints = zip(plant.machines, simulation.machines).map { machine, behaviour in
            MachineEndpoint(machine: machine, simulation: behaviour, metrics: ModbusMetrics(machine: machine.name))
        }
    }

    func run() async throws {
        health.set("modbus", healthy: false, detail: "starting")
        var servers: [ModbusTCPServer] = []
        do {
            for (index, endpoint) in endpoints.enumerated() {
                let port = plant.port(of: index, base: config.modbusPort)
                servers.append(
                    try await ModbusTCPServer.start(
                        host: config.bind, port: port, handler: endpoint,
                        logger: logger))
                logger.info(
                    "machine serving Modbus TCP",
                    metadata: [
                        "machine": "\(endpoint.name)", "kind": "\(endpoint.kind.rawValue)",
                        "address": "\(config.bind):\(port)", "unit": "\(endpoint.unitID)",
                    ])
            }
        } catch {
            for server in servers { await server.close() }
            health.set("modbus", healthy: false, detail: "\(error)")
            throw error
        }
        let ports = servers.map(\.port)
        health.set(
            "modbus", healthy: true,
            detail: "listening on \(ports.count) ports (\(ports.map(String.init).joined(separator: ", ")))")

        await cancelWhenGracefulShutdown {
            await self.runClock()
        }
        for server in servers { await server.close() }
        health.set("modbus", healthy: false, detail: "stopped")
        logger.info("modbus listeners closed")
    }

    /// Steps the plant every tick; when the process falls behind (a paused VM) it catches up at most one
    /// second of ticks instead of spinning.
    private func runClock() async {
        let clock = ContinuousClock()
        let start = clock.now
        var next = start
        var pending = scenario[...]
        let dt = 0.1 * config.speed
        while !Task.isCancelled {
            next += Self.tick
            do { try await clock.sleep(until: next) } catch { return }
            let now = clock.now
            if now - next > .seconds(1) { next = now }
            for endpoint in endpoints { endpoint.step(dt, now: now) }
            while let entry = pending.first, start + entry.at <= now {
                pending.removeFirst()
                inject(entry.fault, source: "scenario")
            }
        }
    }

    /// Applies a fault to its machine, logs it and reports it on the UNS.
    func inject(_ fault: InjectedFault, source: String) {
        guard let endpoint = endpoints.first(where: { $0.name == fault.machine }) else { return }
        endpoint.inject(fault, now: .now, speed: config.speed)
        logger.notice("fault injected", metadata: ["fault": "\(fault)", "source": "\(source)"])
        faultReporter.report(fault, source: source)
    }
}

/// Where injected faults are announced besides the log (the UNS, when MQTT is available).
protocol FaultReporter: Sendable {
    func report(_ fault: InjectedFault, source: String)
}
