import Foundation
import Testing
@testable import Simulate

/// Plant files: the default plant loads, and a wrong file is refused with every problem and its path.
@Suite struct PlantFileTests {
    static let defaultPlantPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/plants/default.yaml").path

    @Test func defaultPlantHasOneSiteTwoLinesAndAtLeastEightMachinesOfEveryKind() throws {
        let plant = try PlantFile.load(path: Self.defaultPlantPath)
        #expect(plant.lines.count == 2)
        #expect(plant.machines.count >= 8)
        #expect(Set(plant.machines.map(\.kind)) == Set(MachineKind.allCases))
        #expect(plant.machines[0].assetPath(in: plant) == "acme/dresden/body-shop/line-1/press-1")
        #expect(plant.port(of: 3, base: 5020) == 5023)
        #expect(plant.machines[3].wordOrder == .littleEndian)
        #expect(plant.machines[2].behaviour == MachineKind.cnc.defaultBehaviour)
    }

    @Test func everyProblemIsReportedWithItsPath() {
        let text = """
            enterprise: acme
            lines:
              - name: line-1
                machines:
                  - name: press-1
                    kind: press
                    unitId: 1
                  - name: m2
                    kind: lathe
                    unitId: 1
                  - name: m3
                    kind: cnc
                    unitId: 1
                  - name: m4
                    kind: cnc
                    unitId: 0
                    port: 70000
                    behaviour:
                      cycleTime: {mean: 10, sd: 20}
                      wearRat: 0.1
                      scrapRate: "high"
              - name: line-1
                machines: []
            """
        let error = #expect(throws: PlantFileError.self) { try PlantFile.parse(text, file: "plant.yaml") }
        let messages = error?.issues.map(\.description) ?? []
        #expect(
            messages == [
                "site: missing (required)",
                "lines[0].machines[1].kind: \"lathe\" is not a known kind; expected one of press, cnc, filler, packer, compressor",
                "lines[0].machines[3].unitId: 0 is out of range 1…247",
                "lines[0].machines[3].port: 70000 is out of range 1…65535",
                "lines[0].machines[3].behaviour.wearRat: unknown parameter; did you mean \"wearRate\"?",
                "lines[0].machines[3].behaviour.cycleTime.sd: 20 is out of range 0…10 (at most the mean)",
                "lines[0].machines[3].behaviour.scrapRate: \"high\" is not a number",
                "lines[1].name: line \"line-1\" is already defined at lines[0].name",
                "lines[1].machines: is empty; at least one entry is required",
            ])
        #expect(error?.description.hasPrefix("plant file plant.yaml: 9 problems") == true)
    }

    @Test func wrongShapesAreReportedNotThrown() {
        let text = """
            enterprise: acme
            site: dresden
            lines:
              - name: line-1
                machines:
                  - just a string
                  - name: m1
                    kind: press
                    unitId: [1]
                    behaviour: 5
            """
        let error = #expect(throws: PlantFileError.self) { try PlantFile.parse(text, file: "plant.yaml") }
        #expect(
            error?.issues.map(\.description) == [
                "lines[0].machines[0]: expected a mapping (key: value lines)",
                "lines[0].machines[1].unitId: expected an integer",
                "lines[0].machines[1].behaviour: expected a mapping (key: value lines)",
            ])
    }

    @Test func syntaxErrorsGiveLineAndColumn() {
        let error = #expect(throws: PlantFileError.self) {
            try PlantFile.parse("enterprise: acme\nsite: [dresden\nlines: []\n", file: "plant.yaml")
        }
        let issue = error?.issues.first
        #expect(issue?.line == 3)
        #expect(issue?.column != nil)
        #expect(issue?.message.hasPrefix("YAML syntax error") == true)
    }

    @Test func exampleScenarioLoads() throws {
        let plant = try PlantFile.load(path: Self.defaultPlantPath)
        let path = Self.defaultPlantPath.replacingOccurrences(of: "default.yaml", with: "scenario-example.yaml")
        let entries = try Scenario.load(path: path, plant: plant)
        #expect(entries.map(\.fault.kindName) == ["slow", "down", "silent", "exception", "out-of-range"])
    }

    @Test func scenarioEntriesAreCheckedAgainstThePlant() throws {
        let plant = try PlantFile.load(path: Self.defaultPlantPath)
        let entries = try Scenario.parse(
            """
            - {at: 5, machine: press-1, kind: slow(250), duration: 10}
            - {at: 1, machine: cnc-1, kind: down(120), duration: 60}
            """, file: "s.yaml", plant: plant)
        #expect(entries.map(\.at) == [.seconds(1), .seconds(5)])
        #expect(entries[0].fault.kind == .down(faultCode: 120))
        #expect(entries[1].fault.kind == .slow(.milliseconds(250)))
        let error = #expect(throws: FaultCommandError.self) {
            try Scenario.parse(
                "- {at: 1, machine: nope, kind: silent, duration: 1}\n- {at: 2, machine: press-1, kind: slow, duration: 1}",
                file: "s.yaml", plant: plant)
        }
        #expect(error?.description.contains("[0]: machine \"nope\" is not in the plant") == true)
        #expect(error?.description.contains("[1]: kind \"slow\": slow needs a delay") == true)
    }
}
