import Foundation
import Modbus
import Yams

/// Reads and validates a plant file. Decoding is lenient (every field is optional and keeps its type error
/// instead of throwing) so that one pass can report every problem in the file at once, each with its path:
/// `lines[1].machines[3].unitId: 0 is out of range 1…247`.
enum PlantFile {
    /// Loads the file at `path`.
    static func load(path: String) throws(PlantFileError) -> Plant {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw PlantFileError(
                file: path,
                issues: [PlantIssue(path: "", message: "cannot read the file: \(error.localizedDescription)")])
        }
        return try parse(text, file: path)
    }

    /// Parses and validates YAML (JSON is YAML too) text; `file` only names it in messages.
    static func parse(_ text: String, file: String) throws(PlantFileError) -> Plant {
        let raw: RawPlant
        do {
            raw = try YAMLDecoder().decode(RawPlant.self, from: text)
        } catch let error as YamlError {
            throw PlantFileError(file: file, issues: [syntaxIssue(error)])
        } catch DecodingError.dataCorrupted(let context) where context.underlyingError is YamlError {
            // Yams wraps libyaml's syntax errors; unwrap them for the line and column.
            if let error = context.underlyingError as? YamlError {
                throw PlantFileError(file: file, issues: [syntaxIssue(error)])
            }
            throw PlantFileError(file: file, issues: [PlantIssue(path: "", message: "\(context.debugDescription)")])
        } catch {
            throw PlantFileError(file: file, issues: [PlantIssue(path: "", message: "\(error)")])
        }
        var validator = PlantValidator()
        let plant = validator.validate(raw)
        guard let plant, validator.issues.isEmpty else {
            throw PlantFileError(file: file, issues: validator.issues)
        }
        return plant
    }

    private static func syntaxIssue(_ error: YamlError) -> PlantIssue {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            PlantIssue(path: "", message: "YAML syntax error: \(problem)", line: mark.line, column: mark.column)
        case .reader(let problem, let offset, _, _):
            PlantIssue(path: "", message: "cannot read the text: \(problem)" + (offset.map { " at byte \($0)" } ?? ""))
        default:
            PlantIssue(path: "", message: "YAML error: \(error)")
        }
    }
}

/// One problem in a plant file: where (path, and line/column for syntax errors) and what.
struct PlantIssue: Equatable, Sendable, CustomStringConvertible {
    var path: String
    var message: String
    var line: Int?
    var column: Int?

    var description: String {
        var location = path
        if let line, let column { location += (location.isEmpty ? "" : " ") + "line \(line), column \(column)" }
        return location.isEmpty ? message : "\(location): \(message)"
    }
}

/// Why a plant file was refused: every problem found, in file order.
struct PlantFileError: Error, CustomStringConvertible, Equatable, Sendable {
    var file: String
    var issues: [PlantIssue]

    var description: String {
        let noun = issues.count == 1 ? "problem" : "problems"
        return "plant file \(file): \(issues.count) \(noun)\n" + issues.map { "  \($0)" }.joined(separator: "\n")
    }
}

// MARK: - Lenient decoding

/// `lines[1].machines[3]` from a coding path.
func plantPath(_ codingPath: [any CodingKey]) -> String {
    var text = ""
    for key in codingPath {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text
}

/// A coding key for any string, to list the keys a mapping really has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
}

/// A value from the file that either decoded as `T` or keeps why not, and where it was.
struct Field<T: Decodable & Sendable>: Decodable, Sendable {
    var value: T?
    var path: String
    var problem: String?

    init(from decoder: any Decoder) throws {
        path = plantPath(decoder.codingPath)
        do {
            let container = try decoder.singleValueContainer()
            value = try container.decode(T.self)
        } catch {
            value = nil
            let given = (try? decoder.singleValueContainer().decode(String.self)).map { "\"\($0)\"" }
            problem = (given.map { "\($0) is not " } ?? "expected ") + Field.expectation
        }
    }

    private static var expectation: String {
        switch T.self {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        default: "a list"
        }
    }
}

/// A mapping's keys, so the validator can name the ones it does not know (usually typos).
struct MappingKeys: Sendable {
    var path: String
    var keys: [String]
    /// Set when the node is not a mapping at all.
    var problem: String?

    init(_ decoder: any Decoder) {
        path = plantPath(decoder.codingPath)
        if let container = try? decoder.container(keyedBy: AnyKey.self) {
            keys = container.allKeys.map(\.stringValue)
        } else {
            keys = []
            problem = "expected a mapping (key: value lines)"
        }
    }
}

/// Decodes an optional field of a mapping without ever throwing.
extension KeyedDecodingContainer where Key == AnyKey {
    func field<T>(_ key: String) -> Field<T>? {
        (try? decodeIfPresent(Field<T>.self, forKey: AnyKey(key))) ?? nil
    }

    func nested<T: Decodable>(_ key: String) -> T? {
        (try? decodeIfPresent(T.self, forKey: AnyKey(key))) ?? nil
    }
}

/// The top of a plant file.
struct RawPlant: Decodable {
    var mapping: MappingKeys
    var enterprise: Field<String>?
    var site: Field<String>?
    var wordOrder: Field<String>?
    var lines: Field<[RawLine]>?

    init(from decoder: any Decoder) throws {
        mapping = MappingKeys(decoder)
        let container = try? decoder.container(keyedBy: AnyKey.self)
        enterprise = container?.field("enterprise")
        site = container?.field("site")
        wordOrder = container?.field("wordOrder")
        lines = container?.field("lines")
    }
}

/// One production line.
struct RawLine: Decodable, Sendable {
    var mapping: MappingKeys
    var name: Field<String>?
    var area: Field<String>?
    var wordOrder: Field<String>?
    var machines: Field<[RawMachine]>?

    init(from decoder: any Decoder) throws {
        mapping = MappingKeys(decoder)
        let container = try? decoder.container(keyedBy: AnyKey.self)
        name = container?.field("name")
        area = container?.field("area")
        wordOrder = container?.field("wordOrder")
        machines = container?.field("machines")
    }
}

/// One machine.
struct RawMachine: Decodable, Sendable {
    var mapping: MappingKeys
    var name: Field<String>?
    var kind: Field<String>?
    var unitId: Field<Int>?
    var port: Field<Int>?
    var wordOrder: Field<String>?
    var behaviour: RawBehaviour?

    init(from decoder: any Decoder) throws {
        mapping = MappingKeys(decoder)
        let container = try? decoder.container(keyedBy: AnyKey.self)
        name = container?.field("name")
        kind = container?.field("kind")
        unitId = container?.field("unitId")
        port = container?.field("port")
        wordOrder = container?.field("wordOrder")
        behaviour = container?.nested("behaviour")
    }
}

/// A machine's `behaviour:` overrides: numbers, or `{mean, sd}` for durations and cycle times.
struct RawBehaviour: Decodable, Sendable {
    var mapping: MappingKeys
    var numbers: [String: Field<Double>] = [:]
    var distributions: [String: RawDistribution] = [:]

    init(from decoder: any Decoder) throws {
        mapping = MappingKeys(decoder)
        guard let container = try? decoder.container(keyedBy: AnyKey.self) else { return }
        for key in container.allKeys {
            if let distribution = try? container.decode(RawDistribution.self, forKey: key), distribution.isMapping {
                distributions[key.stringValue] = distribution
            } else if let number = try? container.decode(Field<Double>.self, forKey: key) {
                numbers[key.stringValue] = number
            }
        }
    }
}

/// `{mean: 4.0, sd: 0.3}`.
struct RawDistribution: Decodable, Sendable {
    var mapping: MappingKeys
    var isMapping: Bool { mapping.problem == nil }
    var mean: Field<Double>?
    var sd: Field<Double>?

    init(from decoder: any Decoder) throws {
        mapping = MappingKeys(decoder)
        let container = try? decoder.container(keyedBy: AnyKey.self)
        mean = container?.field("mean")
        sd = container?.field("sd")
    }
}
