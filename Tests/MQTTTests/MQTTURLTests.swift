import MQTT
import Testing

@Suite("MQTT URLs and configuration")
struct MQTTURLTests {
    @Test func parsesHostPortAndCredentials() throws {
        let url = try MQTTURL(parsing: "mqtt://gateway:s%40cret@broker.plant.local:1884")
        #expect(url.host == "broker.plant.local")
        #expect(url.port == 1884)
        #expect(url.username == "gateway")
        #expect(url.password == "s@cret")
        #expect(!url.usesTLS)
        #expect(url.description == "mqtt://gateway:***@broker.plant.local:1884")
    }

    @Test func defaultsPortsByScheme() throws {
        #expect(try MQTTURL(parsing: "mqtt://broker").port == 1883)
        let tls = try MQTTURL(parsing: "mqtts://broker/")
        #expect(tls.port == 8883)
        #expect(tls.usesTLS)
        #expect(try MQTTURL(parsing: "mqtt://[::1]:1999").host == "::1")
    }

    @Test(arguments: [
        ("broker:1883", "missing scheme"),
        ("http://broker:1883", "unsupported scheme \"http\""),
        ("mqtt://broker:0", "port \"0\" is not a number in 1...65535"),
        ("mqtt://broker:http", "port \"http\" is not a number"),
        ("mqtt://:1883", "host is empty"),
        ("mqtt://broker:1883/plant", "a path, query or fragment is not allowed"),
    ])
    func rejectsWithPreciseMessage(text: String, expected: String) {
        #expect {
            try MQTTURL(parsing: text)
        } throws: { error in
            guard let error = error as? MQTTError else { return false }
            return error.code == .invalidConfiguration && error.description.contains(expected)
        }
    }

    @Test func neverShowsThePasswordInErrors() {
        #expect {
            try MQTTURL(parsing: "mqtt://user:hunter2@broker:99999")
        } throws: { error in
            "\(error)".contains("user:***@") && !"\(error)".contains("hunter2")
        }
    }

    @Test func configurationFromURLAndPersistence() throws {
        var config = try MQTTConfiguration(url: "mqtts://svc:pw@broker:8884", clientID: "stream-1")
        #expect(config.tls != nil)
        #expect(config.username == "svc")
        config.makePersistent(sessionExpiry: 600)
        #expect(!config.cleanStart)
        #expect(config.sessionExpiry == 600)
        #expect(!config.description.contains("pw"))
    }

    @Test func persistentSessionNeedsClientID() {
        var config = MQTTConfiguration(host: "127.0.0.1", clientID: "")
        config.makePersistent()
        #expect(throws: MQTTError.self) { try MQTTClient(configuration: config) }
    }

    @Test func missingCAFileIsReportedWithLibmosquittoReason() {
        var config = MQTTConfiguration(host: "127.0.0.1", clientID: "tls-test")
        config.tls = .init(caFile: "/nonexistent/ca.pem")
        #expect {
            try MQTTClient(configuration: config)
        } throws: { error in
            guard let error = error as? MQTTError else { return false }
            return error.mosquittoCode != nil && error.description.contains("/nonexistent/ca.pem")
        }
    }
}
