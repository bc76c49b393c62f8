import EventSchema
import Foundation
import Logging
import MQTT
@testable import RagCore
import ServiceRuntime
import Testing
import TestSupport

/// rag-index as a service against a real mosquitto (MQTT_HOST / MQTT_PORT): `ask` over MQTT 5
/// request/response, error replies, and recent plant events cited for live questions.
@Suite struct ServiceTests {
    @Test func answersOverMQTTRejectsBadRequestsAndCitesRecentEvents() async throws {
        _ = try ModelLocation.load()
        let broker = try TestEnvironment.mqttBroker()
        let prefix = TestEnvironment.uniqueName("rag")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "# Press\n\n## Fault 111\n\nA die jam: a part is stuck between the dies. Raise the ram and remove it with tongs."
            .write(to: folder.appendingPathComponent("press.md"), atomically: true, encoding: .utf8)

        let runtime = try RuntimeConfig(service: "rag-index", options: try RuntimeOptions.parse([]),
                                        environment: ["MQTT_URL": "mqtt://\(broker.host):\(broker.port)",
                                                      "UNS_PREFIX": prefix, "INSTANCE": "test"],
                                        defaultHTTPPort: 0)
        let config = try RagConfig(flags: RagFlags(index: folder.appendingPathComponent(".index.sqlite").path,
                                                   docs: folder.path, modelDir: ModelLocation.directory),
                                   environment: [:])
        let service = RagService(config: config, runtime: runtime, health: HealthChecks(),
                                 logger: Logger(label: "rag-test"))
        let running = Task { try await service.run() }
        defer { running.cancel() }

        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port,
                                                                    clientID: TestEnvironment.uniqueName("c", separator: "-")))
        client.start()
        let requester = try await MQTTRequester(client: client, responseTopic: "\(prefix)/reply")
        let askTopic = "\(prefix)/_svc/rag-index/ask"
        func ask(_ body: String) async throws -> [String: Any] {
            let reply = try await requester.request(topic: askTopic, payload: Array(body.utf8), timeout: .seconds(2))
            return try #require(try JSONSerialization.jsonObject(with: Data(reply.payload)) as? [String: Any])
        }

        // Ready once the first answer arrives (the model loads and the folder is indexed first).
        var answer: [String: Any] = [:]
        try await poll("rag-index answering on \(askTopic)", timeout: .seconds(60), interval: .milliseconds(200)) {
            guard let reply = try? await ask(#"{"question": "what is a die jam?", "limit": 3}"#) else { return false }
            answer = reply
            return true
        }
        let sources = try #require(answer["sources"] as? [[String: Any]])
        #expect(sources.first?["doc"] as? String == "press.md")
        #expect(sources.first?["heading"] as? String == "Press > Fault 111")
        #expect((answer["answer"] as? String)?.contains("stuck between the dies") == true)

        let bad = try await ask(#"{"limit": 3}"#)
        let error = try #require(bad["error"] as? [String: Any])
        #expect(error["code"] as? String == "badRequest")
        #expect((error["message"] as? String)?.contains("question") == true)
        #expect((try await ask("not json")["error"] as? [String: Any])?["code"] as? String == "badRequest")

        let event = """
            {"specversion":"1.0","id":"\(UUID().uuidString)","source":"stream","type":"io.shopfloor.equipment.state_changed.v1",
             "time":"2026-11-21T22:10:00Z","subject":"acme/dresden/body-shop/line-1/press-3",
             "data":{"asset":"acme/dresden/body-shop/line-1/press-3","from":"running","to":"down",
                     "reason":"fault 111 die jam","since":"2026-11-21T22:10:00Z"}}
            """
        try await client.publish(topic: "\(prefix)/acme/dresden/body-shop/line-1/press-3/event/equipment.state_changed",
                                 payload: Array(event.utf8), qos: .atLeastOnce)
        try await poll("the event cited for a live question", timeout: .seconds(20), interval: .milliseconds(200)) {
            let live = try await ask(#"{"question": "why did press 3 stop last night?"}"#)
            let sources = live["sources"] as? [[String: Any]] ?? []
            return sources.contains { ($0["doc"] as? String)?.hasPrefix("event:") == true
                && ($0["heading"] as? String)?.hasSuffix("press-3") == true }
                && sources.contains { $0["doc"] as? String == "press.md" }
        }
        running.cancel()
        try? await requester.close()
        await client.disconnect()
    }
}
