/// A small subset of JSON Schema (draft 2020-12), enough to describe what event `Codable` conformances
/// write: typed properties, required members, string enums, `date-time` strings, number bounds, arrays.
///
/// Objects never forbid additional properties: consumers ignore unknown fields, and adding an optional
/// field must keep old schemas valid for new events.
public struct JSONSchema: Sendable, Equatable {
    /// The JSON types a schema can require.
    public enum JSONType: String, Sendable, Equatable {
        case string, integer, number, boolean, object, array
    }

    /// One member of an object schema.
    public struct Property: Sendable, Equatable {
        /// The JSON member name, as the `CodingKey` writes it.
        public var name: String
        /// The member's schema.
        public var schema: JSONSchema
        /// Whether every instance has the member (a non-optional Swift property).
        public var isRequired: Bool

        /// A member that is always present.
        public static func required(_ name: String, _ schema: JSONSchema) -> Property {
            Property(name: name, schema: schema, isRequired: true)
        }

        /// A member that is omitted when nil (`encodeIfPresent`, what synthesized `Codable` does).
        public static func optional(_ name: String, _ schema: JSONSchema) -> Property {
            Property(name: name, schema: schema, isRequired: false)
        }
    }

    /// The JSON type of the value.
    public var type: JSONType
    /// The `format` keyword (`date-time`, `uri-reference`), only checked for `date-time`.
    public var format: String?
    /// For strings: the accepted values.
    public var enumValues: [String]?
    /// For numbers: inclusive bounds.
    public var minimum: Double?
    /// For numbers: inclusive bounds.
    public var maximum: Double?
    /// For objects: the members, in declaration order.
    public var properties: [Property]
    /// For arrays: the schema of every element (kept in an array so the struct can nest itself).
    var itemStorage: [JSONSchema]
    /// The `description` keyword: what the value means, for people reading the schema.
    public var documentation: String?

    /// For arrays: the schema of every element.
    public var items: JSONSchema? { itemStorage.first }

    init(type: JSONType, format: String? = nil, enumValues: [String]? = nil, minimum: Double? = nil,
         maximum: Double? = nil, properties: [Property] = [], items: JSONSchema? = nil,
         documentation: String? = nil) {
        self.type = type
        self.format = format
        self.enumValues = enumValues
        self.minimum = minimum
        self.maximum = maximum
        self.properties = properties
        self.itemStorage = items.map { [$0] } ?? []
        self.documentation = documentation
    }

    /// A string, optionally with a `format` and a closed set of values.
    public static func string(format: String? = nil, enum values: [String]? = nil,
                              _ documentation: String? = nil) -> JSONSchema {
        JSONSchema(type: .string, format: format, enumValues: values, documentation: documentation)
    }

    /// An RFC 3339 timestamp, as `EventJSON` writes every `Date`.
    public static func dateTime(_ documentation: String? = nil) -> JSONSchema {
        .string(format: "date-time", documentation)
    }

    /// A string enum built from a Swift enum's raw values, so the two cannot drift apart.
    public static func enumeration<E: CaseIterable & RawRepresentable>(_ type: E.Type,
                                                                       _ documentation: String? = nil) -> JSONSchema
        where E.RawValue == String {
        .string(enum: type.allCases.map(\.rawValue), documentation)
    }

    /// A whole number.
    public static func integer(minimum: Double? = nil, maximum: Double? = nil,
                               _ documentation: String? = nil) -> JSONSchema {
        JSONSchema(type: .integer, minimum: minimum, maximum: maximum, documentation: documentation)
    }

    /// Any number.
    public static func number(minimum: Double? = nil, maximum: Double? = nil,
                              _ documentation: String? = nil) -> JSONSchema {
        JSONSchema(type: .number, minimum: minimum, maximum: maximum, documentation: documentation)
    }

    /// `true` or `false`.
    public static func boolean(_ documentation: String? = nil) -> JSONSchema {
        JSONSchema(type: .boolean, documentation: documentation)
    }

    /// An array whose elements all follow `items`.
    public static func array(of items: JSONSchema, _ documentation: String? = nil) -> JSONSchema {
        JSONSchema(type: .array, items: items, documentation: documentation)
    }

    /// An object with the given members.
    public static func object(_ properties: [Property], _ documentation: String? = nil) -> JSONSchema {
        JSONSchema(type: .object, properties: properties, documentation: documentation)
    }

    /// An ISA-95 path string (`acme/plant1/press-area/line-1/press-3`), as `ISA95Path` encodes.
    public static func isa95Path(_ documentation: String? = nil) -> JSONSchema {
        .string(documentation ?? "ISA-95 path enterprise/site[/area[/line[/cell]]]")
    }

    /// The member named `name`, if any.
    public func property(_ name: String) -> Property? {
        properties.first { $0.name == name }
    }
}
