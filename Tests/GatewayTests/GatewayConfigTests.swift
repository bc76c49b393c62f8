import Foundation
import Modbus
import Testing

@testable import Gateway

/// The configuration file: what a valid file yields, and the messages an invalid one gets.
@Suite struct GatewayConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func defaultPlantConfigurationIsValid() throws {
        let config = try GatewayConfig(file: Self.repository.appendingPathComponent("deploy/gateway/default.yaml").path)
        #expect(config.groupID == "acme-dresden")
        #expect(config.devices.count == 10)
        #expect(config.devices.map(\.port) == Array(5020...5029))
        let cnc2 = try #require(config.devices.first { $0.name == "cnc-2" })
        #expect(cnc2.tags.allSatisfy { $0.wordOrder == .littleEndian })
        let press = config.devices[0]
        let temperature = try #require(press.tags.first { $0.name == "temperature" })
        #expect(temperature.address == TagAddress(area: .holding, offset: 0, unit: nil))
        #expect(temperature.scale == 0.1)
        #expect(temperature.unit == "°C")
        let run = try #require(press.tags.first { $0.name == "run" })
        #expect(run.address.area == .coil && run.writable)
        #expect(press.assetPath == "acme/dresden/body-shop/line-1/press-1")
        #expect(config.pollGroups.map(\.interval) == [.seconds(1), .seconds(10)])
    }

    @Test(arguments: [
        ("40001", TagAddress(area: .holding, offset: 0, unit: nil)),
        ("400001", TagAddress(area: .holding, offset: 0, unit: nil)),
        ("465536", TagAddress(area: .holding, offset: 65535, unit: nil)),
        ("30010", TagAddress(area: .input, offset: 9, unit: nil)),
        ("00001", TagAddress(area: .coil, offset: 0, unit: nil)),
        ("10008", TagAddress(area: .discrete, offset: 7, unit: nil)),
        ("7!40017", TagAddress(area: .holding, offset: 16, unit: 7)),
    ])
    func oneBasedAddressesParse(text: String, expected: TagAddress) {
        #expect(TagAddress(parsing: text) == expected)
    }

    @Test(arguments: ["49999x", "40000", "20001", "4001", "4000001", "300!40001", "!40001", "465537", ""])
    func malformedAddressesAreRejected(text: String) {
        #expect(TagAddress(parsing: text) == nil)
    }

    @Test func zeroBasedAreaAndOffset() throws {
        let config = try GatewayConfig(yaml: """
            groupId: g
            edgeNodeId: e
            devices:
              - name: d
                host: 127.0.0.1
                tags:
                  - {name: a, address: {area: input, offset: 17}, type: int32, wordOrder: little-endian}
            """)
        let tag = config.devices[0].tags[0]
        #expect(tag.address == TagAddress(area: .input, offset: 17, unit: nil))
        #expect(tag.width == 2)
        #expect(tag.wordOrder == .littleEndian)
        #expect(config.pollGroups.map(\.name) == ["default"])
    }

    @Test func everyProblemIsReportedWithItsLocation() {
        let yaml = """
            groupId: plant/1
            devices:
              - name: ok
                host: 127.0.0.1
                tags:
                  - {name: t, address: 40001}
              - name: bad
                host: 127.0.0.1
                port: 70000
                timeout: soon
                tags:
                  - {name: a, address: 40001, type: float33}
                  - {name: b, address: 49999x}
                  - {name: c, address: 30001, writable: true}
                  - {name: d, address: 00001, type: int16}
                  - {name: a, address: 40010, pollGroup: fast}
                  - {name: e, address: 40011, writable: true, min: 10, max: 5}
                  - {name: f, address: 40012, deadbnd: 1}
            """
        do {
            _ = try GatewayConfig(yaml: yaml, file: "bad.yaml")
            Issue.record("an invalid configuration was accepted")
        } catch {
            let byPath = Dictionary(grouping: error.issues, by: \.path)
            #expect(byPath["groupId"]?.first?.message.contains("\"plant/1\" contains + / or #") == true)
            #expect(byPath["edgeNodeId"]?.first?.message.contains("is missing") == true)
            #expect(byPath["devices[1].port"]?.first?.message == "\"70000\" is not an integer in 1…65535")
            #expect(byPath["devices[1].timeout"]?.first?.message.contains("\"soon\" is not a positive duration") == true)
            #expect(byPath["devices[1].tags[0].type"]?.first?.message.contains("\"float33\" is not one of int16") == true)
            #expect(byPath["devices[1].tags[1].address"]?.first?.message.hasPrefix("\"49999x\" is not a Modbus address") == true)
            #expect(byPath["devices[1].tags[2].writable"]?.first?.message.contains("read-only") == true)
            #expect(byPath["devices[1].tags[3].type"]?.first?.message.contains("coils and discrete inputs hold bool") == true)
            #expect(byPath["devices[1].tags[4].pollGroup"]?.first?.message.contains("\"fast\" is not a poll group") == true)
            #expect(byPath["devices[1].tags[4]"]?.first?.message.contains("\"a\" is used twice") == true)
            #expect(byPath["devices[1].tags[5]"]?.first?.message.contains("min 10.0 is above max 5.0") == true)
            #expect(byPath["devices[1].tags[6].deadbnd"]?.first?.message.contains("unknown key") == true)
            #expect(error.issues.count == 12)
            #expect(error.description.hasPrefix("configuration bad.yaml has 12 problems:"))
            // Lines point into the file: the bad address is on line 13.
            #expect(byPath["devices[1].tags[1].address"]?.first?.line == 13)
        }
    }

    @Test func durationsAcceptUnitsAndSeconds() throws {
        let config = try GatewayConfig(yaml: """
            groupId: g
            edgeNodeId: e
            pollGroups:
              - {name: a, interval: 250ms}
              - {name: b, interval: 2}
              - {name: c, interval: 1m}
            devices:
              - {name: d, host: h, timeout: 1.5s, tags: [{name: t, address: 40001, pollGroup: c}]}
            """)
        #expect(config.pollGroups.map(\.interval) == [.milliseconds(250), .seconds(2), .seconds(60)])
        #expect(config.devices[0].timeout == .milliseconds(1500))
    }
}
