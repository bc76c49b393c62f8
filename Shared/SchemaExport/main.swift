// schema-export: writes docs/schemas/<event type>.json for every registered event type (`make schemas`),
// or, with --examples, prints each type's example CloudEvent and topic for docs/events.md.
import EventSchema
import Foundation

/// Prints to standard error and exits with `code`.
func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("schema-export: \(message)\n".utf8))
    exit(code)
}

/// The example CloudEvent of `type` as documented: fixed id, time and correlation id.
func exampleEvent<E: ShopfloorEvent>(_ type: E.Type) throws -> (topic: String, json: String) {
    let producer = E.eventType.contains(".workorder.") || E.eventType.contains(".quality.") ? "api/api-1" : "stream/stream-1"
    let event = E.example.cloudEvent(source: "/shopfloor/\(producer)", id: "5f0c2b1e-8d4a-4c3e-9a57-2f1d6b0e7c41",
                                     time: Date(timeIntervalSince1970: 1_795_335_330.25),
                                     correlationID: "c0ffee00-1111-4222-8333-444455556666")
    let json = try JSONValue(encoding: event).prettyJSON()
    return (try E.example.topic().description, String(decoding: json, as: UTF8.self))
}

/// A Markdown table of the `data` members: name, JSON type, required, meaning.
func fieldTable(_ schema: JSONSchema) -> String {
    var lines = ["| `data` member | type | required | meaning |", "|---|---|---|---|"]
    for property in schema.properties {
        var type = property.schema.type.rawValue
        if let format = property.schema.format { type += " (\(format))" }
        if let values = property.schema.enumValues { type += ": " + values.joined(separator: " \\| ") }
        if let minimum = property.schema.minimum { type += ", ≥ \(minimum.formatted())" }
        if let maximum = property.schema.maximum { type += ", ≤ \(maximum.formatted())" }
        lines.append("| `\(property.name)` | \(type) | \(property.isRequired ? "yes" : "no") | "
                     + "\(property.schema.documentation ?? "") |")
    }
    return lines.joined(separator: "\n") + "\n"
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments == ["--examples"] {
    for type in EventRegistry.all {
        do {
            let (topic, json) = try exampleEvent(type)
            print("### `\(type.eventType)`\n\nTopic: `\(topic)`\n\n\(fieldTable(type.schema))\n```json\n\(json)```\n")
        } catch {
            fail("\(type.eventType): \(error)", code: 1)
        }
    }
    exit(0)
}
guard arguments.count == 1, let directory = arguments.first, !directory.hasPrefix("-") else {
    fail("usage: schema-export <output directory> | --examples", code: 64)
}
do {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for type in EventRegistry.all {
        let document = type.envelopeSchema.document(title: type.eventType)
        let url = URL(fileURLWithPath: directory).appendingPathComponent("\(type.eventType).json")
        try document.prettyJSON().write(to: url, options: .atomic)
        print("wrote \(url.path)")
    }
} catch {
    fail("\(error)", code: 1)
}
