/// Whether a new schema still accepts what consumers of the old one rely on.
extension JSONSchema {
    /// The changes from `old` to this schema that break an existing consumer or stored event, one
    /// sentence each; empty when compatible. Breaking: a property removed, a type or format changed,
    /// an optional property made required, a new required property, an enum value removed.
    /// Compatible: new optional properties, new enum values, a required property made optional.
    public func breakingChanges(from old: JSONSchema, at path: String = "") -> [String] {
        let here = path.isEmpty ? "(root)" : path
        if type != old.type {
            return ["\(here): type changed from \(old.type.rawValue) to \(type.rawValue)"]
        }
        var problems: [String] = []
        if format != old.format {
            problems.append("\(here): format changed from \(old.format ?? "none") to \(format ?? "none")")
        }
        if let oldValues = old.enumValues {
            let lost = oldValues.filter { !(enumValues ?? oldValues).contains($0) }
            if !lost.isEmpty { problems.append("\(here): enum lost \(lost.joined(separator: ", "))") }
        } else if enumValues != nil {
            problems.append("\(here): now restricted to an enum")
        }
        for oldProperty in old.properties {
            let childPath = path.isEmpty ? oldProperty.name : "\(path).\(oldProperty.name)"
            guard let newProperty = property(oldProperty.name) else {
                problems.append("\(childPath): removed")
                continue
            }
            if newProperty.isRequired && !oldProperty.isRequired {
                problems.append("\(childPath): optional became required")
            }
            problems += newProperty.schema.breakingChanges(from: oldProperty.schema, at: childPath)
        }
        for newProperty in properties where newProperty.isRequired && old.property(newProperty.name) == nil {
            let childPath = path.isEmpty ? newProperty.name : "\(path).\(newProperty.name)"
            problems.append("\(childPath): added as required (stored events lack it; add it as optional)")
        }
        if let items, let oldItems = old.items {
            problems += items.breakingChanges(from: oldItems, at: "\(path)[]")
        }
        return problems
    }
}
