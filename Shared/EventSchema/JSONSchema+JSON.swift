/// Rendering a `JSONSchema` as a draft 2020-12 document and reading one back (for compatibility checks
/// against the committed `docs/schemas/*.json`).
extension JSONSchema {
    /// The meta-schema URI every rendered document declares.
    public static let draft202012 = "https://json-schema.org/draft/2020-12/schema"

    /// Keywords a rendered document may hold at its root that `init(json:)` does not model.
    static let annotationKeywords: Set<String> = ["$schema", "$id", "title", "$comment"]

    /// The schema as a JSON value (no `$schema`; see `document(title:)`).
    public var json: JSONValue {
        var members: [String: JSONValue] = ["type": .string(type.rawValue)]
        if let format { members["format"] = .string(format) }
        if let enumValues { members["enum"] = .array(enumValues.map { .string($0) }) }
        if let minimum { members["minimum"] = Self.number(minimum) }
        if let maximum { members["maximum"] = Self.number(maximum) }
        if let documentation { members["description"] = .string(documentation) }
        if let items { members["items"] = items.json }
        if type == .object {
            members["properties"] = .object(Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0.schema.json) }))
            let required = properties.filter(\.isRequired).map(\.name).sorted()
            if !required.isEmpty { members["required"] = .array(required.map { .string($0) }) }
        }
        return .object(members)
    }

    /// A standalone schema document: `$schema`, `title`, then the schema itself.
    public func document(title: String) -> JSONValue {
        var members = json.objectValue ?? [:]
        members["$schema"] = .string(Self.draft202012)
        members["title"] = .string(title)
        return .object(members)
    }

    /// Reads a schema written by `json` or `document(title:)`. Throws `unsupportedSchema` for keywords it
    /// does not model, so a compatibility check never passes by ignoring a constraint.
    public init(json: JSONValue, at path: String = "#") throws(EventSchemaError) {
        guard let members = json.objectValue else {
            throw EventSchemaError(.unsupportedSchema, attribute: path, "schema at \(path) is not an object")
        }
        let known: Set<String> = ["type", "format", "enum", "minimum", "maximum", "description", "items",
                                  "properties", "required", "additionalProperties"]
        if let unknown = members.keys.sorted().first(where: { !known.contains($0) && !Self.annotationKeywords.contains($0) }) {
            throw EventSchemaError(.unsupportedSchema, attribute: path,
                                   "schema at \(path) uses keyword \"\(unknown)\", which this library does not model")
        }
        guard let typeName = members["type"]?.stringValue, let type = JSONType(rawValue: typeName) else {
            throw EventSchemaError(.unsupportedSchema, attribute: path, "schema at \(path) has no single "
                                   + "\"type\" among string, integer, number, boolean, object, array")
        }
        var enumValues: [String]?
        if let values = members["enum"] {
            guard case .array(let elements) = values else {
                throw EventSchemaError(.unsupportedSchema, attribute: path, "\"enum\" at \(path) is not an array")
            }
            enumValues = try elements.map { element throws(EventSchemaError) in
                guard let text = element.stringValue else {
                    throw EventSchemaError(.unsupportedSchema, attribute: path, "\"enum\" at \(path) has a non-string value")
                }
                return text
            }
        }
        var properties: [Property] = []
        if let declared = members["properties"]?.objectValue {
            var required: Set<String> = []
            if case .array(let names)? = members["required"] { required = Set(names.compactMap(\.stringValue)) }
            for name in declared.keys.sorted() {
                let schema = try JSONSchema(json: declared[name] ?? .null, at: "\(path)/properties/\(name)")
                properties.append(Property(name: name, schema: schema, isRequired: required.contains(name)))
            }
        }
        let items = try members["items"].map { value throws(EventSchemaError) in
            try JSONSchema(json: value, at: "\(path)/items")
        }
        self.init(type: type, format: members["format"]?.stringValue, enumValues: enumValues,
                  minimum: members["minimum"]?.numberValue, maximum: members["maximum"]?.numberValue,
                  properties: properties, items: items, documentation: members["description"]?.stringValue)
    }

    /// Bounds are written as integers when whole, so `100` does not render as `100.0`.
    private static func number(_ value: Double) -> JSONValue {
        if value.rounded() == value, let whole = Int(exactly: value) { return .integer(whole) }
        return .number(value)
    }
}
