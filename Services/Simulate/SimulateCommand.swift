import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime

/// `simulate`: A test plant of machines served over Modbus TCP.
@main
struct SimulateCommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "A test plant of machines served over Modbus TCP.",
        version: ShopfloorVersion.current)
    static let serviceName = "simulate"
    static let defaultHTTPPort = 9103

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var options: SimulateOptions

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        if options.sparkplug {
            let load = try options.sparkplugLoad()
            return [try SparkplugLoadService(options: load, config: config, health: health, logger: logger)]
        }
        let simulate = try SimulateConfig(options: options, environment: ProcessInfo.processInfo.environment)
        let plant = try PlantFile.load(path: simulate.plantPath)
        let scenario =
            try simulate.scenarioPath.map { path throws(FaultCommandError) in
                try Scenario.load(path: path, plant: plant)
            } ?? []
        if options.check {
            print(
                "plant file \(simulate.plantPath): OK, \(plant.lines.count) lines, \(plant.machines.count) machines"
                    + (simulate.scenarioPath.map { ", scenario \($0): \(scenario.count) injections" } ?? ""))
            throw ExitCode.success
        }
        logger.info(
            "plant loaded",
            metadata: [
                "config": "\(simulate)", "machines": "\(plant.machines.count)", "seed": "\(simulate.seed)",
            ])
        let faults = try FaultCommandService(plant: plant, config: config, logger: logger)
        let service = PlantService(
            plant: plant, config: simulate, scenario: scenario, health: health,
            faultReporter: faults, logger: logger)
        faults.attach(service)
        // The plant first: it stops last, after fault commands stop arriving.
        return [service, faults]
    }
}
