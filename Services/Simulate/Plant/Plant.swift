import Modbus

/// A validated plant: the ISA-95 path of every machine, how it is served over Modbus and how it behaves.
/// Built only by `PlantFile.load`, so every value in it has passed validation.
struct Plant: Equatable, Sendable {
    var enterprise: String
    var site: String
    var lines: [Line]

    struct Line: Equatable, Sendable {
        var name: String
        var area: String
    }

    /// The machines in file order; machine i listens on the base port + i unless it names its own port.
    var machines: [Machine]

    struct Machine: Equatable, Sendable {
        /// Also the ISA-95 cell.
        var name: String
        var kind: MachineKind
        var area: String
        var line: String
        var unitID: UInt8
        var port: Int?
        var wordOrder: ModbusWordOrder
        var behaviour: Behaviour

        /// `enterprise/site/area/line/cell`, as UNS topics spell it.
        func assetPath(in plant: Plant) -> String {
            "\(plant.enterprise)/\(plant.site)/\(area)/\(line)/\(name)"
        }
    }

    /// The TCP port of machine `index` when the machines without their own port count up from `base`.
    func port(of index: Int, base: Int) -> Int { machines[index].port ?? base + index }
}
