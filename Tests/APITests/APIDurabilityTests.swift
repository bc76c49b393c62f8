@testable import APICore
import EventSchema
import Foundation
import MQTT
import TestSupport
import Testing

/// Nothing the api should know is lost to a restart of the api or an outage of the broker.
@Suite("api durability", .serialized)
struct APIDurabilityTests {
    static let press = "acme/plant1/press-area/line-1/press-3"

    /// The feed's persistent session: UNS events published while the api is stopped reach its read models
    /// when it starts again.
    @Test func eventsPublishedWhileTheAPIIsStoppedAreProjectedAfterItStarts() async throws {
        let api = try RestartableAPI(broker: try TestEnvironment.mqttBroker())
        defer { api.removeStore() }
        let path = try ISA95Path.parse(Self.press)
        // First life: the feed subscribes (a retained probe comes through), then the api stops.
        try await api.run { app, _, _ in
            try await api.publishValue(asset: "acme/plant1/probe-area/probe", metric: "ready", value: 1)
            try await poll("the feed to receive") { app.cache.values(of: "acme/plant1/probe-area/probe") != nil }
        }
        // While it is down: a stop, an alarm.
        try await api.publish(EquipmentStateChanged(asset: path, from: .running, to: .down, reason: "jam",
                                                    since: at("2026-11-20T09:00:00Z")),
                              id: "while-down-1", time: at("2026-11-20T09:00:00Z"))
        try await api.publish(AlarmRaised(alarmId: "press-3/temperature/high", asset: path, metric: "temperature",
                                          severity: .high, threshold: 85, value: 91, message: "hot"),
                              id: "while-down-2", time: at("2026-11-20T09:00:01Z"))
        // Second life: both are there.
        try await api.run { _, http, token in
            try await poll("the events published while the api was stopped") {
                let downtime = try await http.get("/v1/downtime?asset=\(Self.press)&from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z",
                                                  token: token)
                let alarms = try await http.get("/v1/alarms?asset=\(Self.press)", token: token)
                return (downtime.object["items"] as? [[String: Any]])?.first?["id"] as? String == "while-down-1"
                    && (alarms.object["items"] as? [[String: Any]])?.first?["id"] as? String == "while-down-2"
            }
        }
    }

    /// The outbox: a work-order transition made while the broker is down is committed at once, and its event
    /// reaches the broker once it is back, even across a restart of the api.
    @Test func aTransitionDuringABrokerOutageIsPublishedWhenTheBrokerIsBack() async throws {
        let broker = try PrivateBroker()
        try await broker.start()
        let api = try RestartableAPI(broker: ("127.0.0.1", broker.port))
        defer { api.removeStore() }
        let line = "acme/plant1/press-area/line-1"
        try await api.run { app, http, token in
            #expect(try await http.post("/v1/products", json: ["id": "BRK-1", "name": "Bracket", "idealCycleSeconds": 2],
                                        token: token).status == 201)
            #expect(try await http.post("/v1/workorders", json: ["id": "WO-7", "product": "BRK-1", "quantityTarget": 50,
                                                                 "asset": line], token: token).status == 201)
            try await poll("workorder.created to leave the outbox") { try await app.store.pendingOutbox(limit: 10).isEmpty }
            try await broker.stop()
            try await poll("the api to notice the outage") { !app.client.isConnected }
            // Answered at once: the change and its event are committed together, nothing waits for the broker.
            let released = try await withTimeout("release during the outage", .seconds(5)) {
                try await http.post("/v1/workorders/WO-7/release", token: token)
            }
            #expect(released.object["status"] as? String == "released")
            #expect(try await app.store.pendingOutbox(limit: 10).map(\.topic) == ["\(api.prefix)/\(line)/event/workorder.released"])
        }
        // The api stopped with the event still in its outbox; the broker comes back, then the api.
        try await broker.start()
        let watcher = try await api.mqttClient()
        try await watcher.subscribe(to: "\(api.prefix)/\(line)/event/#", qos: .atLeastOnce)
        try await api.run { app, _, _ in
            let received = try await watcher.messages.first(1, timeout: .seconds(10))
            let event = try CloudEvent<WorkOrderReleased>.decode(from: Data(received[0].payload))
            #expect(event.type == WorkOrderReleased.eventType)
            #expect(event.data.workOrderId == "WO-7")
            #expect(event.source == "/shopfloor/api/\(api.instance)")
            try await poll("the outbox to be empty") { try await app.store.pendingOutbox(limit: 10).isEmpty }
        }
        await watcher.disconnect()
        try await broker.stop()
    }
}
