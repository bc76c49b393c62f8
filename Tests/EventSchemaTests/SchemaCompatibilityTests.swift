import EventSchema
import Foundation
import Testing

/// The committed `docs/schemas/*.json` are the contract with consumers: the current code may extend them
/// but never break them. Run `make schemas` after a compatible change to commit the new versions.
@Suite("Schema compatibility")
struct SchemaCompatibilityTests {
    /// docs/schemas of this checkout, found from this file's path (tests run from any directory).
    static let schemaDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/schemas")

    /// Every committed schema, by event type (file name without `.json`).
    static func committedSchemas() throws -> [(type: String, schema: JSONSchema)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: schemaDirectory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let bytes = try Data(contentsOf: schemaDirectory.appendingPathComponent(name))
            return (String(name.dropLast(".json".count)), try JSONSchema(json: try JSONValue(parsing: bytes)))
        }
    }

    @Test("every committed schema's type is still registered and still accepts what it promised")
    func committedSchemasStillHold() throws {
        let committed = try Self.committedSchemas()
        #expect(!committed.isEmpty, "no schemas under \(Self.schemaDirectory.path)")
        for (type, old) in committed {
            guard let registered = EventRegistry.type(named: type) else {
                Issue.record("\(type).json is committed but \(type) is no longer registered; keep publishing it or add a new version")
                continue
            }
            let problems = registered.envelopeSchema.breakingChanges(from: old)
            #expect(problems == [], "\(type) breaks its committed schema")
        }
    }

    @Test("every registered type has a committed schema (run `make schemas`)")
    func everyTypeCommitted() throws {
        let committed = Set(try Self.committedSchemas().map(\.type))
        for type in EventRegistry.all {
            #expect(committed.contains(type.eventType), "docs/schemas/\(type.eventType).json is missing")
        }
    }

    @Test("rendering and reading a schema back loses nothing")
    func jsonRoundTrip() throws {
        for type in EventRegistry.all {
            let schema = type.envelopeSchema
            #expect(try JSONSchema(json: schema.document(title: type.eventType)).json == schema.json)
        }
    }

    // The checks above only mean something if `breakingChanges` does catch breaks:

    static let old = JSONSchema.object([
        .required("asset", .isa95Path()),
        .required("good", .integer()),
        .optional("reason", .string()),
        .required("state", .string(enum: ["running", "down"])),
    ])

    @Test("accepts new optional members, new enum values and relaxed requirements")
    func compatibleChanges() {
        let new = JSONSchema.object([
            .optional("asset", .isa95Path()),
            .required("good", .integer()),
            .optional("reason", .string()),
            .required("state", .string(enum: ["running", "down", "setup"])),
            .optional("shift", .string()),
        ])
        #expect(new.breakingChanges(from: Self.old) == [])
    }

    @Test("reports each breaking change", arguments: [
        (JSONSchema.object([.required("asset", .isa95Path()), .optional("reason", .string()),
                            .required("state", .string(enum: ["running", "down"]))]), "good: removed"),
        (JSONSchema.object([.required("asset", .isa95Path()), .required("good", .number()),
                            .optional("reason", .string()), .required("state", .string(enum: ["running", "down"]))]),
         "good: type changed from integer to number"),
        (JSONSchema.object([.required("asset", .isa95Path()), .required("good", .integer()),
                            .required("reason", .string()), .required("state", .string(enum: ["running", "down"]))]),
         "reason: optional became required"),
        (JSONSchema.object([.required("asset", .isa95Path()), .required("good", .integer()),
                            .optional("reason", .string()), .required("state", .string(enum: ["running"]))]),
         "state: enum lost down"),
        (JSONSchema.object([.required("asset", .isa95Path()), .required("good", .integer()),
                            .optional("reason", .string()), .required("state", .string(enum: ["running", "down"])),
                            .required("shift", .string())]),
         "shift: added as required (stored events lack it; add it as optional)"),
    ])
    func breakingChanges(new: JSONSchema, expected: String) {
        #expect(new.breakingChanges(from: Self.old) == [expected])
    }

    @Test("a committed schema with a keyword we do not model is refused, not half-checked")
    func unknownKeyword() throws {
        let json = try JSONValue(parsing: Data(#"{"type":"string","pattern":"^a"}"#.utf8))
        #expect(throws: EventSchemaError.self) { try JSONSchema(json: json) }
    }
}
