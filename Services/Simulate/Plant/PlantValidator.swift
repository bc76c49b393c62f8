import Modbus

/// The validation pass over a leniently decoded plant file: collects every problem with its path instead of
/// stopping at the first, and builds the `Plant` when there are none.
struct PlantValidator {
    private(set) var issues: [PlantIssue] = []

    private static let plantKeys = ["enterprise", "site", "wordOrder", "lines"]
    private static let lineKeys = ["name", "area", "wordOrder", "machines"]
    private static let machineKeys = ["name", "kind", "unitId", "port", "wordOrder", "behaviour"]

    mutating func validate(_ raw: RawPlant) -> Plant? {
        guard checkMapping(raw.mapping, known: Self.plantKeys) else { return nil }
        let enterprise = name(raw.enterprise, key: "enterprise", parent: "")
        let site = name(raw.site, key: "site", parent: "")
        let plantOrder = wordOrder(raw.wordOrder) ?? .bigEndian

        var lines: [Plant.Line] = []
        var machines: [Plant.Machine] = []
        var machineNames: [String: String] = [:]  // name → path of its first use
        var ports: [Int: String] = [:]
        var lineNames: [String: String] = [:]

        guard let rawLines = list(raw.lines, key: "lines", parent: "") else { return nil }
        for (lineIndex, rawLine) in rawLines.enumerated() {
            let linePath = "lines[\(lineIndex)]"
            guard checkMapping(rawLine.mapping, known: Self.lineKeys) else { continue }
            let lineName = name(rawLine.name, key: "name", parent: linePath)
            if let lineName {
                if let first = lineNames[lineName] {
                    issue("\(linePath).name", "line \"\(lineName)\" is already defined at \(first)")
                } else {
                    lineNames[lineName] = "\(linePath).name"
                }
            }
            let area = rawLine.area == nil ? "production" : name(rawLine.area, key: "area", parent: linePath)
            let lineOrder = wordOrder(rawLine.wordOrder) ?? plantOrder
            if let lineName, let area { lines.append(Plant.Line(name: lineName, area: area)) }

            guard let rawMachines = list(rawLine.machines, key: "machines", parent: linePath) else { continue }
            for (machineIndex, rawMachine) in rawMachines.enumerated() {
                let path = "\(linePath).machines[\(machineIndex)]"
                guard checkMapping(rawMachine.mapping, known: Self.machineKeys) else { continue }
                let machineName = name(rawMachine.name, key: "name", parent: path)
                if let machineName {
                    if let first = machineNames[machineName] {
                        issue("\(path).name", "machine \"\(machineName)\" is already defined at \(first)")
                    } else {
                        machineNames[machineName] = "\(path).name"
                    }
                }
                let kind = self.kind(rawMachine.kind, parent: path)
                let unitID = integer(rawMachine.unitId, key: "unitId", parent: path, range: 1...247, required: true)
                let port = integer(rawMachine.port, key: "port", parent: path, range: 1...65535, required: false)
                if let port {
                    if let first = ports[port] {
                        issue("\(path).port", "port \(port) is already used at \(first)")
                    } else {
                        ports[port] = "\(path).port"
                    }
                }
                let order = wordOrder(rawMachine.wordOrder) ?? lineOrder
                var behaviour = kind?.defaultBehaviour ?? Behaviour()
                if let rawBehaviour = rawMachine.behaviour {
                    apply(rawBehaviour, to: &behaviour, path: "\(path).behaviour")
                }
                if let machineName, let kind, let unitID, let lineName, let area {
                    machines.append(
                        Plant.Machine(
                            name: machineName, kind: kind, area: area, line: lineName, unitID: UInt8(unitID),
                            port: port, wordOrder: order, behaviour: behaviour))
                }
            }
        }
        guard let enterprise, let site, issues.isEmpty else { return nil }
        return Plant(enterprise: enterprise, site: site, lines: lines, machines: machines)
    }

    // MARK: Checks

    private mutating func issue(_ path: String, _ message: String) {
        issues.append(PlantIssue(path: path, message: message))
    }

    /// Reports a node that is not a mapping and every key it has that is not known (with a suggestion).
    private mutating func checkMapping(_ mapping: MappingKeys, known: [String]) -> Bool {
        if let problem = mapping.problem {
            issue(mapping.path, problem)
            return false
        }
        for key in mapping.keys.sorted() where !known.contains(key) {
            let path = mapping.path.isEmpty ? key : "\(mapping.path).\(key)"
            issue(path, "unknown key" + suggestion(for: key, among: known))
        }
        return true
    }

    private func suggestion(for key: String, among known: [String]) -> String {
        let close = known.filter {
            $0.lowercased() == key.lowercased() || editDistance($0.lowercased(), key.lowercased()) <= 2
        }
        if let best = close.first { return "; did you mean \"\(best)\"?" }
        return "; expected one of " + known.joined(separator: ", ")
    }

    /// A name that becomes an MQTT topic level: required, letters, digits, '-', '_' or '.'.
    private mutating func name(_ field: Field<String>?, key: String, parent: String) -> String? {
        let path = parent.isEmpty ? key : "\(parent).\(key)"
        guard let field else {
            issue(path, "missing (required)")
            return nil
        }
        guard let value = field.value else {
            issue(field.path, field.problem ?? "invalid")
            return nil
        }
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            issue(
                field.path,
                "\"\(value)\" is not a valid name; use letters, digits, '-', '_' or '.' (it becomes an MQTT topic level)"
            )
            return nil
        }
        return value
    }

    private mutating func integer(
        _ field: Field<Int>?, key: String, parent: String, range: ClosedRange<Int>,
        required: Bool
    ) -> Int? {
        guard let field else {
            if required {
                issue("\(parent).\(key)", "missing (required; an integer in \(range.lowerBound)…\(range.upperBound))")
            }
            return nil
        }
        guard let value = field.value else {
            issue(field.path, field.problem ?? "invalid")
            return nil
        }
        guard range.contains(value) else {
            issue(field.path, "\(value) is out of range \(range.lowerBound)…\(range.upperBound)")
            return nil
        }
        return value
    }

    private mutating func list<T>(_ field: Field<[T]>?, key: String, parent: String) -> [T]? {
        let path = parent.isEmpty ? key : "\(parent).\(key)"
        guard let field else {
            issue(path, "missing (required; a list)")
            return nil
        }
        guard let value = field.value else {
            issue(field.path, "expected a list")
            return nil
        }
        guard !value.isEmpty else {
            issue(field.path, "is empty; at least one entry is required")
            return nil
        }
        return value
    }

    private mutating func kind(_ field: Field<String>?, parent: String) -> MachineKind? {
        let accepted = MachineKind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let field else {
            issue("\(parent).kind", "missing (required; one of \(accepted))")
            return nil
        }
        guard let value = field.value, let kind = MachineKind(rawValue: value) else {
            let given = field.value.map { "\"\($0)\" is not a known kind" } ?? (field.problem ?? "invalid")
            issue(field.path, "\(given); expected one of \(accepted)")
            return nil
        }
        return kind
    }

    private mutating func wordOrder(_ field: Field<String>?) -> ModbusWordOrder? {
        guard let field else { return nil }
        let accepted = ModbusWordOrder.allCases.map(\.rawValue).joined(separator: " or ")
        guard let value = field.value, let order = ModbusWordOrder(rawValue: value) else {
            let given = field.value.map { "\"\($0)\" is not a word order" } ?? (field.problem ?? "invalid")
            issue(field.path, "\(given); expected \(accepted)")
            return nil
        }
        return order
    }

    /// Applies `behaviour:` overrides after checking each against its parameter's range, then checks the
    /// parameters that only make sense together.
    private mutating func apply(_ raw: RawBehaviour, to behaviour: inout Behaviour, path: String) {
        if let problem = raw.mapping.problem {
            issue(path, problem)
            return
        }
        let known = Behaviour.parameters.map(\.key)
        for key in raw.mapping.keys.sorted() where !known.contains(key) {
            issue("\(path).\(key)", "unknown parameter" + suggestion(for: key, among: known))
        }
        for parameter in Behaviour.parameters {
            let keyPath = "\(path).\(parameter.key)"
            let range = "\(format(parameter.range.lowerBound))…\(format(parameter.range.upperBound)) \(parameter.unit)"
            switch parameter.access {
            case .number(let target):
                if raw.distributions[parameter.key] != nil {
                    issue(keyPath, "expected a number in \(range), not a mapping")
                } else if let field = raw.numbers[parameter.key] {
                    if let value = field.value {
                        if parameter.range.contains(value) {
                            behaviour[keyPath: target] = value
                        } else {
                            issue(keyPath, "\(format(value)) is out of range \(range)")
                        }
                    } else {
                        issue(keyPath, field.problem ?? "invalid")
                    }
                }
            case .distribution(let target):
                if raw.numbers[parameter.key] != nil {
                    issue(keyPath, "expected {mean: …, sd: …} with the mean in \(range)")
                } else if let distribution = raw.distributions[parameter.key] {
                    for key in distribution.mapping.keys.sorted() where key != "mean" && key != "sd" {
                        issue("\(keyPath).\(key)", "unknown key; expected mean or sd")
                    }
                    var result = behaviour[keyPath: target]
                    if let mean = distribution.mean {
                        if let value = mean.value, parameter.range.contains(value) {
                            result.mean = value
                        } else if let value = mean.value {
                            issue("\(keyPath).mean", "\(format(value)) is out of range \(range)")
                        } else {
                            issue("\(keyPath).mean", mean.problem ?? "invalid")
                        }
                    } else {
                        issue("\(keyPath).mean", "missing (required)")
                    }
                    if let sd = distribution.sd {
                        if let value = sd.value, value >= 0, value <= result.mean {
                            result.sd = value
                        } else if let value = sd.value {
                            issue(
                                "\(keyPath).sd",
                                "\(format(value)) is out of range 0…\(format(result.mean)) (at most the mean)")
                        } else {
                            issue("\(keyPath).sd", sd.problem ?? "invalid")
                        }
                    }
                    behaviour[keyPath: target] = result
                }
            }
        }
        if behaviour.failureVibration <= behaviour.baseVibration {
            issue(
                "\(path).failureVibration",
                "\(format(behaviour.failureVibration)) mm/s must be above baseVibration (\(format(behaviour.baseVibration)) mm/s)"
            )
        }
        if behaviour.starvedShare + behaviour.blockedShare + behaviour.setupShare <= 0 {
            issue(
                "\(path).starvedShare",
                "starvedShare, blockedShare and setupShare are all 0; at least one must be positive")
        }
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// Levenshtein distance, to suggest the key a typo meant.
private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
