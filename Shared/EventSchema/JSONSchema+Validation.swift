/// A small validator for the subset `JSONSchema` models.
extension JSONSchema {
    /// Every way `value` fails this schema, one message each with its location; empty when valid.
    /// With `rejectUnknownMembers`, object members the schema does not declare are reported too (used by
    /// tests to prove a schema describes everything the encoder writes; consumers must accept them).
    public func violations(of value: JSONValue, at path: String = "",
                           rejectUnknownMembers: Bool = false) -> [String] {
        let here = path.isEmpty ? "(root)" : path
        switch (type, value) {
        case (.string, .string(let text)):
            var problems: [String] = []
            if let enumValues, !enumValues.contains(text) {
                problems.append("\(here): \"\(text)\" is not one of \(enumValues.joined(separator: ", "))")
            }
            if format == "date-time", RFC3339.date(from: text) == nil {
                problems.append("\(here): \"\(text)\" is not an RFC 3339 date-time")
            }
            return problems
        case (.integer, .integer), (.number, .integer), (.number, .number):
            return boundViolations(value.numberValue ?? 0, here: here)
        case (.integer, .number(let number)) where number.rounded() == number:
            return boundViolations(number, here: here)
        case (.boolean, .bool):
            return []
        case (.array, .array(let elements)):
            guard let items else { return [] }
            return elements.indices.flatMap { index in
                items.violations(of: elements[index], at: "\(path)[\(index)]", rejectUnknownMembers: rejectUnknownMembers)
            }
        case (.object, .object(let members)):
            var problems: [String] = []
            for property in properties {
                let childPath = path.isEmpty ? property.name : "\(path).\(property.name)"
                if let member = members[property.name] {
                    problems += property.schema.violations(of: member, at: childPath,
                                                           rejectUnknownMembers: rejectUnknownMembers)
                } else if property.isRequired {
                    problems.append("\(childPath): required member is missing")
                }
            }
            if rejectUnknownMembers {
                for name in members.keys.sorted() where property(name) == nil {
                    problems.append("\(path.isEmpty ? name : "\(path).\(name)"): not declared in the schema")
                }
            }
            return problems
        default:
            return ["\(here): expected \(type.rawValue), got \(Self.typeName(of: value))"]
        }
    }

    private func boundViolations(_ number: Double, here: String) -> [String] {
        var problems: [String] = []
        if let minimum, number < minimum { problems.append("\(here): \(number) is below the minimum \(minimum)") }
        if let maximum, number > maximum { problems.append("\(here): \(number) is above the maximum \(maximum)") }
        return problems
    }

    private static func typeName(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
