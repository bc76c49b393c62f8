@testable import APICore
import Foundation
import ServiceRuntime
import Testing

/// The feed's MQTT identity and the deduplication window, from flags and environment (no I/O).
@Suite("api config: feed session and dedup window")
struct APIConfigFeedTests {
    static func runtime(instance: String, prefix: String = "uns/v1") throws -> RuntimeConfig {
        try RuntimeConfig(service: "api", options: try RuntimeOptions.parse(["--instance", instance, "--uns-prefix", prefix]),
                          environment: [:], defaultHTTPPort: 8080)
    }

    @Test func theDefaultClientIDIsStableAndDiffersPerStoreAndPrefix() throws {
        let config = try APIConfig(flags: APIFlags(store: "sqlite:/var/lib/api.db"), environment: [:], defaultPublicDirectory: nil)
        let id = config.mqttClientID(runtime: try Self.runtime(instance: "api-1"))
        #expect(id.hasPrefix("shopfloor-api-api-1-"))
        #expect(id.count == "shopfloor-api-api-1-".count + 12)
        // The same configuration after a restart: the same session.
        let again = try APIConfig(flags: APIFlags(store: "sqlite:/var/lib/api.db"), environment: [:], defaultPublicDirectory: nil)
        #expect(again.mqttClientID(runtime: try Self.runtime(instance: "api-1")) == id)
        let otherStore = try APIConfig(flags: APIFlags(store: "sqlite:/tmp/other.db"), environment: [:], defaultPublicDirectory: nil)
        #expect(otherStore.mqttClientID(runtime: try Self.runtime(instance: "api-1")) != id)
        #expect(config.mqttClientID(runtime: try Self.runtime(instance: "api-1", prefix: "plant2/v1")) != id)
        #expect(config.mqttClientID(runtime: try Self.runtime(instance: "api-2")) != id)
    }

    @Test func clientIDSessionExpiryAndDedupWindowAreConfigurable() throws {
        let config = try APIConfig(flags: APIFlags(mqttClientID: "api-east"),
                                   environment: ["API_MQTT_SESSION_EXPIRY": "600", "API_DEDUP_DAYS": "30"],
                                   defaultPublicDirectory: nil)
        #expect(config.mqttClientID(runtime: try Self.runtime(instance: "x")) == "api-east")
        #expect(config.sessionExpiry == 600)
        #expect(config.dedupWindow == .seconds(30 * 86_400))
        let defaults = try APIConfig(flags: APIFlags(), environment: [:], defaultPublicDirectory: nil)
        #expect(defaults.sessionExpiry == 86_400)
        #expect(defaults.dedupWindow == .seconds(7 * 86_400))
        #expect(throws: ConfigError.self) {
            try APIConfig(flags: APIFlags(dedupDays: "0"), environment: [:], defaultPublicDirectory: nil)
        }
        #expect(throws: ConfigError.self) {
            try APIConfig(flags: APIFlags(mqttClientID: ""), environment: [:], defaultPublicDirectory: nil)
        }
        #expect(throws: ConfigError.self) {
            try APIConfig(flags: APIFlags(), environment: ["API_MQTT_SESSION_EXPIRY": "0"], defaultPublicDirectory: nil)
        }
    }
}
