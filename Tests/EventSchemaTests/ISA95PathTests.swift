import EventSchema
import Testing

@Suite("ISA95Path")
struct ISA95PathTests {
    @Test("parses every depth from site to cell and formats it back", arguments: [
        "acme/plant1", "acme/plant1/press-area", "acme/plant1/press-area/line-1",
        "acme/plant1/press-area/line-1/press-3",
    ])
    func roundTrip(text: String) throws {
        let path = try #require(ISA95Path(parsing: text))
        #expect(path.description == text)
        #expect(path.depth == text.split(separator: "/").count)
    }

    @Test("names the levels of a full path")
    func levels() throws {
        let path = try ISA95Path.parse("acme/plant1/press-area/line-1/press-3")
        #expect(path.enterprise == "acme")
        #expect(path.site == "plant1")
        #expect(path.area == "press-area")
        #expect(path.line == "line-1")
        #expect(path.cell == "press-3")
        #expect(path.parent?.description == "acme/plant1/press-area/line-1")
        #expect(try ISA95Path.parse("acme/plant1/press-area").contains(path))
        #expect(!path.contains(try ISA95Path.parse("acme/plant1/press-area")))
    }

    @Test("rejects bad paths", arguments: [
        "acme", "", "acme/plant1/a/b/c/d", "acme//line", "acme/plant1/", "acme/_svc", "_acme/plant1",
        "acme/plant+1", "acme/plant#", "acme/plant1/event", "acme/plant1/value/x",
    ])
    func rejects(text: String) {
        #expect(ISA95Path(parsing: text) == nil)
    }

    @Test("refuses a line without an area, naming the line")
    func gap() {
        do {
            _ = try ISA95Path(enterprise: "acme", site: "p1", line: "l1")
            Issue.record("accepted a line without an area")
        } catch {
            #expect(error.code == .invalidPath)
            #expect(error.message.contains("\"l1\""))
        }
    }

    @Test("explains a leading underscore")
    func underscoreMessage() {
        do {
            _ = try ISA95Path.parse("acme/_plant")
            Issue.record("accepted _plant")
        } catch {
            #expect(error.message.contains("site name \"_plant\""))
        }
    }
}
