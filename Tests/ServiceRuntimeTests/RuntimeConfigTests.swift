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
        #expect(config.broker == BrokerURL(host: "127.0.0.1", port: 1883))
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
        #expect(throws: ConfigError.self) { try config(["--instance", "a/b"]) }
    }
}

@Suite("BrokerURL")
struct BrokerURLTests {
    @Test(arguments: [
        ("mqtt://localhost", BrokerURL(host: "localhost", port: 1883)),
        ("mqtts://broker.example.com", BrokerURL(host: "broker.example.com", port: 8883, tls: true)),
        ("mqtt://u@h:1884", BrokerURL(host: "h", port: 1884, username: "u")),
        ("mqtt://u:p%40ss@h:1884/", BrokerURL(host: "h", port: 1884, username: "u", password: "p@ss")),
        ("mqtt://[::1]:1883", BrokerURL(host: "::1", port: 1883)),
    ])
    func parses(text: String, expected: BrokerURL) throws {
        #expect(try BrokerURL(parsing: text) == expected)
    }

    @Test(arguments: [
        ("localhost:1883", "missing scheme"),
        ("http://h:80", "unknown scheme"),
        ("mqtt://:1883", "missing host"),
        ("mqtt://h:0", "port must be"),
        ("mqtt://h:1883/topic", "path"),
    ])
    func rejects(text: String, reason: String) {
        #expect {
            try BrokerURL(parsing: text)
        } throws: { error in
            (error as? BrokerURL.ParseError)?.reason.contains(reason) == true
        }
    }
}
