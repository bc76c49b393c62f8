import Foundation
import Modbus
import Yams

/// A fault injection as JSON (MQTT command) or YAML (scenario entry) spells it:
/// `{"machine": "press-1", "kind": "slow(500)", "duration": 30}`. Kinds: `silent`, `slow(ms)`,
/// `exception(code)`, `out-of-range`, `down(faultCode)`; duration in seconds.
struct FaultCommand: Codable, Equatable, Sendable {
    var machine: String
    var kind: String
    var duration: Double
    /// Scenario files only: seconds after start.
    var at: Double?

    /// The fault this command asks for, checked against the plant; the error message says what is accepted.
    func fault(in plant: Plant) throws(FaultCommandError) -> InjectedFault {
        guard plant.machines.contains(where: { $0.name == machine }) else {
            let names = plant.machines.map(\.name).joined(separator: ", ")
            throw FaultCommandError("machine \"\(machine)\" is not in the plant; it has \(names)")
        }
        guard duration > 0, duration <= 86400 else {
            throw FaultCommandError("duration \(duration) s is out of range; use 0 < duration ≤ 86400")
        }
        let parsed = try Self.parseKind(kind)
        return InjectedFault(machine: machine, kind: parsed, duration: .milliseconds(Int64(duration * 1000)))
    }

    static func parseKind(_ text: String) throws(FaultCommandError) -> InjectedFault.Kind {
        let accepted = "silent, slow(ms), exception(code), out-of-range or down(faultCode)"
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        var name = trimmed, argument: Int?
        if let open = trimmed.firstIndex(of: "("), trimmed.hasSuffix(")") {
            name = String(trimmed[..<open])
            guard let value = Int(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]) else {
                throw FaultCommandError("kind \"\(text)\" has a non-integer argument; expected \(accepted)")
            }
            argument = value
        }
        switch (name, argument) {
        case ("silent", nil): return .silent
        case ("out-of-range", nil): return .outOfRange
        case ("slow", let ms?) where (1...60_000).contains(ms): return .slow(.milliseconds(ms))
        case ("exception", let code?) where (1...255).contains(code):
            return .exception(ModbusExceptionCode(rawValue: UInt8(code)))
        case ("down", let code?) where (1...65535).contains(code): return .down(faultCode: UInt16(code))
        case ("slow", _): throw FaultCommandError("kind \"\(text)\": slow needs a delay in 1…60000 ms, e.g. slow(500)")
        case ("exception", _):
            throw FaultCommandError("kind \"\(text)\": exception needs a code in 1…255, e.g. exception(2)")
        case ("down", _):
            throw FaultCommandError("kind \"\(text)\": down needs a fault code in 1…65535, e.g. down(110)")
        default: throw FaultCommandError("kind \"\(text)\" is unknown; expected \(accepted)")
        }
    }
}

/// A fault command or scenario that cannot be applied, and why.
struct FaultCommandError: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A scenario file: a YAML list of timed injections, played from the start of the run.
enum Scenario {
    /// Loads and checks every entry; all problems are reported at once, each with its index.
    static func load(path: String, plant: Plant) throws(FaultCommandError) -> [(at: Duration, fault: InjectedFault)] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FaultCommandError("scenario \(path): cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: path, plant: plant)
    }

    static func parse(
        _ text: String, file: String, plant: Plant
    ) throws(FaultCommandError) -> [(at: Duration, fault: InjectedFault)] {
        let commands: [FaultCommand]
        do {
            commands = try YAMLDecoder().decode([FaultCommand].self, from: text)
        } catch {
            throw FaultCommandError("scenario \(file): expected a list of {at, machine, kind, duration}: \(error)")
        }
        var entries: [(at: Duration, fault: InjectedFault)] = []
        var problems: [String] = []
        for (index, command) in commands.enumerated() {
            guard let at = command.at, at >= 0 else {
                problems.append("[\(index)].at: missing or negative; seconds after start")
                continue
            }
            do {
                entries.append((.milliseconds(Int64(at * 1000)), try command.fault(in: plant)))
            } catch {
                problems.append("[\(index)]: \(error)")
            }
        }
        guard problems.isEmpty else {
            throw FaultCommandError("scenario \(file): " + problems.joined(separator: "; "))
        }
        return entries.sorted { $0.at < $1.at }
    }
}
