/// The whole plant's behaviour as one value: one `MachineSimulation` per machine, each with its own random
/// stream derived from the seed and its index.
struct PlantSimulation: Equatable, Sendable {
    private(set) var machines: [MachineSimulation]

    init(plant: Plant, seed: UInt64) {
        machines = plant.machines.enumerated().map { index, machine in
            MachineSimulation(kind: machine.kind, behaviour: machine.behaviour, seed: seed, stream: UInt64(index))
        }
    }

    /// Advances every machine by `dt` plant seconds.
    mutating func step(_ dt: Double) {
        for index in machines.indices { machines[index].step(dt) }
    }
}
