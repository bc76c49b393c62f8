import Testing

@testable import ServiceRuntime

@Suite("RuntimeConfig")
struct RuntimeConfigTests {
    private func config(_ arguments: [String] = [], _ environment: [String: String] = [:]) throws -> RuntimeConfig {
        try RuntimeConfig(service: "gateway", options: RuntimeOptions.parse(arguments), environment: environment,
                          defaultHTTPPort: 9101)
    }

    @Test func defaultsApplyWhenNothingIsGiven() throws {
        let config = try config()
        #expect(config.broker.host == "127.0.0.1")
        #expect(config.broker.port == 1883)
        #expect(config.statusTopic.description == "uns/v1/_svc/gateway/status/\(config.instance)")
        #expect(config.httpPort == 9101)
        #expect(config.logLevel == .info)
        #expect(config.logFormat == .text)
    }

    @Test func flagBeatsEnvironmentWhichBeatsDefault() throws {
        let options = ["--http-port", "7000"]
        let environment = ["HTTP_PORT": "8000", "LOG_LEVEL": "debug", "MQTT_URL": "mqtt://broker:1999"]
        let config = try config(options, environment)
        #expect(config.httpPort == 7000)
        #expect(config.logLevel == .debug)
        #expect(config.broker.host == "broker")
        #expect(config.broker.port == 1999)
    }

    @Test func badPortNamesTheKeyAndTheAcceptedRange() {
        #expect {
            try config([], ["HTTP_PORT": "http"])
        } throws: { error in
            "\(error)" == #"invalid configuration --http-port / HTTP_PORT = "http": expected an integer in 0…65535"#
        }
    }

    @Test func badLogLevelListsTheAcceptedLevels() {
        #expect {
            try config(["--log-level", "loud"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("--log-level / LOG_LEVEL") && text.contains("\"loud\"") && text.contains("warning")
        }
    }

    @Test func brokerPasswordNeverAppearsInDescriptionsOrErrors() throws {
        let good = try config([], ["MQTT_URL": "mqtt://plant:s3cret@broker:1883"])
        #expect(good.broker.password == "s3cret")
        #expect(!"\(good)".contains("s3cret"))
        #expect("\(good.broker)" == "mqtt://plant:***@broker:1883")

        #expect {
            try config([], ["MQTT_URL": "mqtt://plant:s3cret@broker:port"])
        } throws: { error in
            "\(error)".contains("mqtt://plant:***@broker:port") && !"\(error)".contains("s3cret")
        }
    }

    @Test func instanceMustBeATopicLevel() {
        #expect {
            try config(["--instance", "a/b"])
        } throws: { error in
            "\(error)".contains("--instance / INSTANCE = \"a/b\"")
        }
    }

    @Test func unsPrefixMovesTheStatusTopicAndIsValidated() throws {
        let moved = try config(["--instance", "edge-1"], ["UNS_PREFIX": "acme/uns/v2"])
        #expect(moved.statusTopic.description == "acme/uns/v2/_svc/gateway/status/edge-1")
        #expect {
            try config(["--uns-prefix", "uns/#"])
        } throws: { error in
            "\(error)".contains("--uns-prefix / UNS_PREFIX = \"uns/#\"")
        }
    }
}
