import Sparkplug
import Testing

@Suite("Alias table")
struct AliasTableTests {
    let nbirth = Payload(timestamp: 1, metrics: [
        Metric(name: "bdSeq", datatype: .int64, value: .int64(0)),
        Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(false)),
        Metric(name: "Temperature", alias: 1, datatype: .float, value: .float(20)),
    ], seq: 0)
    let dbirth = Payload(timestamp: 2, metrics: [
        Metric(name: "Count", alias: 2, datatype: .int16, value: .int16(0)),
    ], seq: 1)

    @Test("DATA metrics resolve by alias to name, datatype and typed value")
    func resolve() throws {
        var table = AliasTable()
        try table.define(birth: nbirth)
        try table.define(birth: dbirth, device: "press-3")
        let data = try Payload(decoding: try Payload(metrics: [Metric(alias: 2, value: .int16(-7))]).encode())
        let resolved = try table.resolve(data.metrics[0], device: "press-3")
        #expect(resolved.name == "Count")
        #expect(resolved.datatype == .int16)
        #expect(resolved.value == .int16(-7))
        let byName = try table.resolve(Metric(name: "Node Control/Rebirth", value: .untyped(.boolean(true))))
        #expect(byName.value == .boolean(true))
        #expect(table.entry(name: "Temperature")?.alias == 1)
    }

    @Test("unknown aliases, aliases of another device and unknown names are errors")
    func unknown() throws {
        var table = AliasTable()
        try table.define(birth: nbirth)
        try table.define(birth: dbirth, device: "press-3")
        #expect(throws: SparkplugError.self) { try table.resolve(Metric(alias: 99, value: .untyped(.int(1)))) }
        #expect(throws: SparkplugError.self) { try table.resolve(Metric(alias: 2, value: .untyped(.int(1)))) }
        #expect(throws: SparkplugError.self) { try table.resolve(Metric(name: "Nope", value: .untyped(.int(1)))) }
        #expect(throws: SparkplugError.self) { try table.resolve(Metric(alias: 1, value: .untyped(.int(1)))) }
    }

    @Test("duplicate aliases across node and devices, and duplicate names, are rejected")
    func duplicates() throws {
        var table = AliasTable()
        try table.define(birth: nbirth)
        let clash = Payload(metrics: [Metric(name: "Other", alias: 1, datatype: .int8, value: .int8(0))])
        do {
            try table.define(birth: clash, device: "press-3")
            Issue.record("duplicate alias accepted")
        } catch {
            #expect(error.code == .duplicateAlias)
            #expect(error.message.contains("\"Temperature\" of the node"))
        }
        #expect(table.entry(name: "Other", device: "press-3") == nil)
        let twice = Payload(metrics: [Metric(name: "A", datatype: .int8, value: .int8(0)),
                                      Metric(name: "A", datatype: .int8, value: .int8(0))])
        #expect(throws: SparkplugError.self) { try table.define(birth: twice, device: "d") }
    }

    @Test("a new NBIRTH clears the old session; a DBIRTH replaces only its device")
    func rebirth() throws {
        var table = AliasTable()
        try table.define(birth: nbirth)
        try table.define(birth: dbirth, device: "press-3")
        try table.define(birth: Payload(metrics: [Metric(name: "Count2", alias: 3, datatype: .int8, value: .int8(0))]),
                         device: "press-3")
        #expect(table.entry(alias: 2) == nil)
        #expect(table.entry(alias: 1)?.name == "Temperature")
        try table.define(birth: Payload(metrics: [Metric(name: "X", alias: 2, datatype: .int8, value: .int8(0))]))
        #expect(table.entry(alias: 1) == nil)
        #expect(table.entry(alias: 3) == nil)
        #expect(table.entry(alias: 2)?.name == "X")
    }
}
