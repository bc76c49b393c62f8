@testable import APICore
import EventSchema
import Foundation
import MQTT
import TestSupport
import Testing

/// The api as a client sees it: a real server on a free port, a real mosquitto feeding the UNS.
@Suite("api server", .serialized)
struct APIServerTests {
    static let press = APITestServer.press
    static func pressPath() throws -> ISA95Path { try ISA95Path.parse(press) }

    @Test func authenticationFailuresAndRoles() async throws {
        try await APITestServer.run { server in
            let http = server.http
            // No token, a made-up token, a wrong password.
            let anonymous = try await http.get("/v1/assets")
            #expect(anonymous.status == 401)
            #expect(anonymous.errorCode == "unauthenticated")
            #expect(anonymous.headers["www-authenticate"] != nil)
            #expect(try await http.get("/v1/assets", token: "sf_nope").errorCode == "unauthenticated")
            let wrong = try await http.post("/v1/auth/login", json: ["user": "ada", "password": "guess"])
            #expect(wrong.status == 401)
            #expect(wrong.errorCode == "invalid_credentials")
            // Roles: a viewer may read but not write; an operator may not manage users.
            #expect(try await http.get("/v1/auth/me", token: server.viewer).object["role"] as? String == "viewer")
            let forbidden = try await http.post("/v1/workorders", json: ["id": "WO-1"], token: server.viewer)
            #expect(forbidden.status == 403)
            #expect(forbidden.errorMessage.contains("operator"))
            #expect(try await http.post("/v1/users", json: ["name": "x", "password": "12345678", "role": "viewer"],
                                        token: server.operatorToken).status == 403)
            #expect(try await http.get("/v1/audit", token: server.operatorToken).status == 403)
            // Public: health, OpenAPI.
            #expect(try await http.get("/health").status == 200)
            #expect(try await http.get("/openapi.json").object["openapi"] as? String == "3.1.0")
            let unknown = try await http.get("/v1/nothing-here", token: server.admin)
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not_found")
        }
    }

    @Test func loginIsRateLimited() async throws {
        try await APITestServer.run { server in
            for _ in 0..<5 {
                #expect(try await server.http.post("/v1/auth/login", json: ["user": "otto", "password": "nope"]).status == 401)
            }
            let limited = try await server.http.post("/v1/auth/login", json: ["user": "otto", "password": "password-otto"])
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 > 0)
            // Another user is not affected.
            #expect(try await server.http.post("/v1/auth/login", json: ["user": "vera", "password": "password-vera"]).status == 200)
        }
    }

    @Test func usersTokensAndAuditLog() async throws {
        try await APITestServer.run { server in
            let http = server.http
            let created = try await http.post("/v1/users", json: ["name": "nina", "password": "long-enough", "role": "operator"],
                                              token: server.admin)
            #expect(created.status == 201)
            #expect(try await http.post("/v1/users", json: ["name": "nina", "password": "long-enough", "role": "operator"],
                                        token: server.admin).status == 409)
            let short = try await http.post("/v1/users", json: ["name": "sam", "password": "short", "role": "viewer"], token: server.admin)
            #expect(short.status == 400)
            #expect(short.errorMessage.contains("at least 8"))
            let badRole = try await http.post("/v1/users", json: ["name": "sam", "password": "long-enough", "role": "boss"], token: server.admin)
            #expect(badRole.errorCode == "invalid_json")
            // An API token works as a bearer, is listed without its secret and stops working when revoked.
            let token = try await http.post("/v1/tokens", json: ["name": "scada"], token: server.operatorToken)
            #expect(token.status == 201)
            let secret = try #require(token.object["token"] as? String)
            let id = try #require(token.object["id"] as? String)
            #expect(try await http.get("/v1/auth/me", token: secret).object["via"] as? String == "token:\(id)")
            let listed = try await http.get("/v1/tokens", token: server.operatorToken)
            #expect(listed.text.contains(id) && !listed.text.contains(secret))
            #expect(try await http.delete("/v1/tokens/\(id)", token: server.operatorToken).status == 204)
            #expect(try await http.get("/v1/auth/me", token: secret).status == 401)
            // Logout ends the session.
            let session = try await server.login("nina", "long-enough")
            #expect(try await http.post("/v1/auth/logout", token: session).status == 200)
            #expect(try await http.get("/v1/auth/me", token: session).status == 401)
            // Every write is in the audit log.
            let audit = try await http.get("/v1/audit?limit=50", token: server.admin)
            let actions = (audit.object["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(Set(["user.create", "token.create", "token.delete", "login", "logout"]).isSubset(of: Set(actions)))
            #expect(try await http.delete("/v1/users/ada", token: server.admin).status == 409)
        }
    }

    @Test func readModelsFromTheUNSAreDeduplicated() async throws {
        try await APITestServer.run { server in
            let http = server.http
            let path = try Self.pressPath()
            try await server.publishValue(asset: Self.press, metric: "temperature", value: 29.5)
            try await server.publish(EquipmentStateChanged(asset: path, from: nil, to: .running, since: at("2026-11-20T08:00:00Z")),
                                     id: "s1", time: at("2026-11-20T08:00:00Z"))
            // Delivered three times (at-least-once): must count once.
            try await server.publish(EquipmentStateChanged(asset: path, from: .running, to: .down, reason: "jam", since: at("2026-11-20T09:00:00Z")),
                                     id: "s2", time: at("2026-11-20T09:00:00Z"), times: 3)
            try await server.publish(EquipmentStateChanged(asset: path, from: .down, to: .running, since: at("2026-11-20T09:30:00Z")),
                                     id: "s3", time: at("2026-11-20T09:30:00Z"))
            try await server.publish(AlarmRaised(alarmId: "press-3/temperature/high", asset: path, metric: "temperature",
                                                 severity: .high, threshold: 85, value: 87, message: "hot"),
                                     id: "a1", time: at("2026-11-20T09:00:00Z"), times: 2)
            try await poll("the events to be projected") {
                let downtime = try await http.get("/v1/downtime?asset=\(Self.press)&from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z", token: server.viewer)
                let alarms = try await http.get("/v1/alarms", token: server.viewer)
                let states = try await http.get("/v1/states?asset=acme/plant1", token: server.viewer)
                return (downtime.object["items"] as? [Any])?.count == 1 && (alarms.object["items"] as? [Any])?.count == 1
                    && states.text.contains("\"previous\":\"down\"")
            }
            let values = try await http.get("/v1/values?asset=\(Self.press)", token: server.viewer)
            let first = (values.object["values"] as? [[String: Any]])?.first
            #expect(first?["metric"] as? String == "temperature")
            #expect(first?["value"] as? Double == 29.5)
            #expect(try await http.get("/v1/values?asset=acme/plant1/nowhere", token: server.viewer).status == 404)
            #expect(try await http.get("/v1/values?asset=not//a/path", token: server.viewer).errorCode == "invalid_parameter")
            let tree = try await http.get("/v1/assets", token: server.viewer)
            #expect(tree.text.contains("\"level\":\"cell\"") && tree.text.contains("\"path\":\"acme/plant1/press-area/line-1\""))
            let timeline = try await http.get("/v1/states/timeline?asset=\(Self.press)&from=2026-11-20T08:00:00Z&to=2026-11-20T10:00:00Z",
                                              token: server.viewer)
            let intervals = timeline.object["intervals"] as? [[String: Any]] ?? []
            #expect(intervals.compactMap { $0["state"] as? String } == ["running", "down", "running"])
            #expect(intervals.compactMap { $0["durationSeconds"] as? Double } == [3600, 1800, 1800])

            // Acknowledge (operator), and a viewer may not.
            #expect(try await http.post("/v1/alarms/a1/acknowledge", token: server.viewer).status == 403)
            let acknowledged = try await http.post("/v1/alarms/a1/acknowledge", token: server.operatorToken)
            #expect(acknowledged.object["acknowledgedBy"] as? String == "otto")
            #expect(try await http.post("/v1/alarms/nope/acknowledge", token: server.operatorToken).status == 404)
            try await server.publish(AlarmCleared(alarmId: "press-3/temperature/high", asset: path, value: 80, clearedBy: "auto"),
                                     id: "c1", time: at("2026-11-20T09:10:00Z"))
            try await poll("the alarm to leave the open list") {
                (try await http.get("/v1/alarms", token: server.viewer).object["items"] as? [Any])?.isEmpty == true
            }
            let all = try await http.get("/v1/alarms?state=all", token: server.viewer)
            #expect(all.text.contains("\"state\":\"cleared\""))
            #expect(try await http.get("/v1/alarms?state=maybe", token: server.viewer).errorCode == "invalid_parameter")

            // Classify the stop: unknown codes are refused with the known ones listed.
            let bad = try await http.post("/v1/downtime/s2/classify", json: ["reasonCode": "GREMLINS"], token: server.operatorToken)
            #expect(bad.status == 400 && bad.errorMessage.contains("BREAKDOWN-MECH"))
            let classified = try await http.post("/v1/downtime/s2/classify", json: ["reasonCode": "BREAKDOWN-MECH"], token: server.operatorToken)
            #expect(classified.object["reasonCode"] as? String == "BREAKDOWN-MECH")
            #expect(classified.object["durationSeconds"] as? Double == 1800)
            #expect(try await http.post("/v1/downtime/s1/classify", json: ["reasonCode": "MATERIAL"], token: server.operatorToken).status == 409)
            #expect(try await http.get("/v1/reasons", token: server.viewer).text.contains("PLANNED-BREAK"))
        }
    }

    @Test func workOrdersLifecycleEventsProductionAndOEE() async throws {
        try await APITestServer.run { server in
            let http = server.http
            let line = "acme/plant1/press-area/line-1"
            let watcher = try await server.mqttClient()
            try await watcher.subscribe(to: "\(server.prefix)/\(line)/event/+", qos: .atLeastOnce)

            #expect(try await http.post("/v1/products", json: ["id": "BRK-1", "name": "Bracket", "idealCycleSeconds": 2],
                                        token: server.operatorToken).status == 403)
            #expect(try await http.post("/v1/products", json: ["id": "BRK-1", "name": "Bracket", "idealCycleSeconds": 0],
                                        token: server.admin).status == 400)
            #expect(try await http.post("/v1/products", json: ["id": "BRK-1", "name": "Bracket", "idealCycleSeconds": 2],
                                        token: server.admin).status == 201)
            let unknownProduct = try await http.post("/v1/workorders", json: ["id": "WO-1", "product": "NOPE", "quantityTarget": 10, "asset": line],
                                                     token: server.operatorToken)
            #expect(unknownProduct.status == 400 && unknownProduct.errorMessage.contains("NOPE"))
            let missing = try await http.post("/v1/workorders", json: ["id": "WO-1", "product": "BRK-1"], token: server.operatorToken)
            #expect(missing.errorCode == "invalid_json" && missing.errorMessage.contains("quantityTarget"))
            let created = try await http.post("/v1/workorders", json: ["id": "WO-1", "product": "BRK-1", "quantityTarget": 500, "asset": line],
                                              token: server.operatorToken)
            #expect(created.status == 201)
            #expect(created.object["status"] as? String == "created")
            #expect(try await http.post("/v1/workorders", json: ["id": "WO-1", "product": "BRK-1", "quantityTarget": 5, "asset": line],
                                        token: server.operatorToken).status == 409)
            // Illegal transitions are refused; legal ones move the order on.
            let illegal = try await http.post("/v1/workorders/WO-1/start", token: server.operatorToken)
            #expect(illegal.status == 409 && illegal.errorCode == "illegal_transition")
            #expect(try await http.post("/v1/workorders/WO-1/release", token: server.operatorToken).object["status"] as? String == "released")
            #expect(try await http.post("/v1/workorders/WO-1/start", token: server.operatorToken).object["status"] as? String == "running")
            #expect(try await http.post("/v1/workorders/WO-404/start", token: server.operatorToken).status == 404)

            // Production on a machine of the line is attributed to the running order.
            try await server.publish(EquipmentStateChanged(asset: try Self.pressPath(), from: nil, to: .running, since: at("2026-11-20T08:00:00Z")),
                                     id: "w-s1", time: at("2026-11-20T08:00:00Z"))
            try await server.publish(ProductionCounted(asset: try Self.pressPath(), good: 1500, scrap: 100, total: 1600,
                                                       windowStart: at("2026-11-20T08:00:00Z"), windowEnd: at("2026-11-20T09:00:00Z")),
                                     id: "p1", time: at("2026-11-20T09:00:00Z"), times: 2)
            try await poll("production to reach the work order") {
                try await http.get("/v1/workorders/WO-1", token: server.viewer).object["good"] as? Int == 1500
            }
            let completed = try await http.post("/v1/workorders/WO-1/complete", token: server.operatorToken)
            #expect(completed.object["scrap"] as? Int == 100)
            #expect(completed.object["allowedActions"] as? [String] == [])
            #expect(try await http.post("/v1/workorders/WO-1/cancel", token: server.operatorToken).status == 409)

            // OEE of the line over 08:00–09:00: A = 1, P = 1600 × 2 / 3600, Q = 1500 / 1600.
            let oee = try await http.get("/v1/oee?asset=\(line)&from=2026-11-20T08:00:00Z&to=2026-11-20T09:00:00Z", token: server.viewer)
            let overall = oee.object["overall"] as? [String: Any] ?? [:]
            #expect(overall["availability"] as? Double == 1)
            #expect(abs((overall["performance"] as? Double ?? 0) - 3200.0 / 3600) < 1e-9)
            #expect(abs((overall["oee"] as? Double ?? 0) - 3000.0 / 3600) < 1e-9)
            #expect((oee.object["machines"] as? [Any])?.count == 1)
            #expect(try await http.get("/v1/oee?asset=\(line)&from=2026-11-20T09:00:00Z&to=2026-11-20T08:00:00Z", token: server.viewer).status == 400)
            #expect(try await http.get("/v1/oee?asset=\(line)&from=yesterday", token: server.viewer).errorMessage.contains("RFC 3339"))

            // The lifecycle was published as CloudEvents.
            let messages = try await watcher.messages.first(4)
            let types = messages.compactMap { try? CloudEventAttributes.decode(from: Data($0.payload)).type }
            #expect(types == [WorkOrderCreated.eventType, WorkOrderReleased.eventType, WorkOrderStarted.eventType,
                              WorkOrderCompleted.eventType])
            await watcher.disconnect()

            let list = try await http.get("/v1/workorders?status=completed&limit=1", token: server.viewer)
            #expect((list.object["items"] as? [Any])?.count == 1)
            #expect(list.object["next"] as? String == "/v1/workorders?limit=1&offset=1&status=completed")
            #expect(try await http.get("/v1/workorders?status=lost", token: server.viewer).status == 400)
        }
    }

    @Test func erpImportReportsEachBadRowAndExportRoundTrips() async throws {
        try await APITestServer.run { server in
            let http = server.http
            _ = try await http.post("/v1/products", json: ["id": "BRK-1", "name": "Bracket", "idealCycleSeconds": 2], token: server.admin)
            let json: [[String: Any]] = [
                ["id": "E-1", "product": "BRK-1", "quantityTarget": 10, "asset": "acme/plant1/press-area/line-1"],
                ["id": "E-2", "product": "NOPE", "quantityTarget": 10, "asset": "acme/plant1/press-area/line-1"],
                ["id": "E-3", "product": "BRK-1", "quantityTarget": -1, "asset": "acme/plant1/press-area/line-1"],
                ["id": "E-1", "product": "BRK-1", "quantityTarget": 10, "asset": "acme/plant1/press-area/line-1"],
            ]
            #expect(try await http.post("/v1/workorders/import", json: ["workOrders": json], token: server.operatorToken).status == 403)
            let report = try await http.post("/v1/workorders/import", json: ["workOrders": json], token: server.admin)
            #expect(report.object["imported"] as? Int == 1)
            #expect(report.object["failed"] as? Int == 3)
            let rows = (report.object["errors"] as? [[String: Any]] ?? []).compactMap { $0["row"] as? Int }
            #expect(rows == [2, 3, 4])
            let csv = """
                id,product,quantityTarget,asset,scheduledStart,scheduledEnd
                C-1,BRK-1,20,acme/plant1/press-area/line-2,2026-11-23T06:00:00Z,2026-11-23T14:00:00Z
                C-2,BRK-1,20,not-a-path,,
                """
            let csvReport = try await http.post("/v1/workorders/import", raw: csv, contentType: "text/csv", token: server.admin)
            #expect(csvReport.object["imported"] as? Int == 1)
            #expect((csvReport.object["errors"] as? [[String: Any]])?.first?["message"] as? String
                == "asset \"not-a-path\" is not valid: expected an ISA-95 path enterprise/site[/area[/line[/cell]]]")
            let exported = try await http.get("/v1/workorders/export?format=csv", token: server.viewer)
            #expect(exported.headers["content-type"]?.hasPrefix("text/csv") == true)
            #expect(exported.text.contains("C-1,BRK-1,20,acme/plant1/press-area/line-2,2026-11-23T06:00:00.000Z"))
            #expect(exported.text.contains("E-1,BRK-1,10"))
            #expect(try await http.get("/v1/workorders/export?format=xml", token: server.viewer).status == 400)
            #expect(try await http.post("/v1/workorders/import", raw: "{", token: server.admin).errorCode == "invalid_json")
        }
    }

    @Test func historyAndAskTimeOutWith504AndRelayAnswers() async throws {
        try await APITestServer.run(requestTimeoutMS: 300) { server in
            let http = server.http
            let timeout = try await http.get("/v1/history?asset=\(Self.press)&metric=temperature", token: server.viewer)
            #expect(timeout.status == 504)
            #expect(timeout.errorCode == "upstream_timeout")
            #expect(timeout.errorMessage.contains("stream did not answer"))
            #expect(try await http.get("/v1/history?asset=\(Self.press)", token: server.viewer).status == 400)
            let noRag = try await http.post("/v1/ask", json: ["question": "why is press 3 down?"], token: server.viewer)
            #expect(noRag.status == 504 && noRag.errorMessage.contains("rag-index"))

            // Stand-ins for stream and rag-index answer over MQTT 5 request/response.
            let responderClient = try await server.mqttClient()
            let seen = LockedValue<[String]>([])
            let ready = LockedValue(0)
            let responders = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await MQTTResponder(client: responderClient, requestFilter: "\(server.prefix)/_svc/stream/history")
                            .run(ready: { ready.withLock { $0 += 1 } }) { request in
                                let text = String(decoding: request.payload, as: UTF8.self)
                                seen.withLock { $0.append(text) }
                                if text.contains("\"bucket\":\"bogus\"") { throw TestHTTPError("bucket \"bogus\" is not valid") }
                                return Array(#"{"asset":"x","metric":"temperature","samples":[{"t":1,"value":2}],"next":null}"#.utf8)
                            }
                    }
                    group.addTask {
                        try await MQTTResponder(client: responderClient, requestFilter: "\(server.prefix)/_svc/rag-index/ask")
                            .run(ready: { ready.withLock { $0 += 1 } }) { _ in
                                Array(#"{"answer":"Check the spindle.","sources":[{"path":"manual.md"}]}"#.utf8)
                            }
                    }
                    try await group.waitForAll()
                }
            }
            try await poll("the responders to subscribe") { ready.value == 2 }
            let history = try await http.get("/v1/history?asset=\(Self.press)&metric=temperature&from=2026-11-20T08:00:00Z&bucket=1m&aggregate=avg,max",
                                             token: server.viewer)
            #expect(history.status == 200)
            #expect((history.object["samples"] as? [Any])?.count == 1)
            let request = seen.value.first ?? ""
            #expect(request.contains("\"from\":1795161600000") && request.contains("\"aggregate\":[\"avg\",\"max\"]"))
            let rejected = try await http.get("/v1/history?asset=\(Self.press)&metric=temperature&bucket=bogus", token: server.viewer)
            #expect(rejected.status == 400 && rejected.errorMessage.contains("bogus"))
            let answer = try await http.post("/v1/ask", json: ["question": "why?", "limit": 3], token: server.viewer)
            #expect(answer.object["answer"] as? String == "Check the spindle.")
            #expect(try await http.post("/v1/ask", json: ["question": " "], token: server.viewer).status == 400)
            responders.cancel()
            await responderClient.disconnect()
        }
    }

    @Test func serverSentEventsAreFilteredByAssetAndType() async throws {
        try await APITestServer.run { server in
            let reader = try SSEReader(port: server.http.port, path: "/v1/events?asset=acme/plant1/press-area&type=alarm.raised",
                                       token: server.viewer)
            defer { reader.close() }
            var lines = reader.lines.makeAsyncIterator()
            try await poll("the SSE subscription") { server.app.hub.subscriberCount == 1 }
            let elsewhere = try ISA95Path.parse("acme/plant2/welding/line-9/robot-1")
            try await server.publish(AlarmRaised(alarmId: "x", asset: elsewhere, metric: "t", severity: .low, threshold: 1, value: 2,
                                                 message: "elsewhere"), id: "x1", time: Date())
            try await server.publish(AlarmCleared(alarmId: "x", asset: try Self.pressPath(), clearedBy: "auto"), id: "x2", time: Date())
            try await server.publish(AlarmRaised(alarmId: "y", asset: try Self.pressPath(), metric: "t", severity: .low, threshold: 1, value: 2,
                                                 message: "here"), id: "x3", time: Date())
            var received: [String] = []
            while let line = await lines.next() {
                received.append(line)
                if line.hasPrefix("data: ") { break }
            }
            #expect(received.first == "HTTP/1.1 200 OK")
            #expect(received.contains("Content-Type: text/event-stream"))
            #expect(received.contains("id: x3"))
            #expect(received.contains("event: alarm.raised"))
            #expect(received.last?.contains("\"message\":\"here\"") == true)
            #expect(!received.contains { $0.contains("elsewhere") })
            #expect(try await server.http.get("/v1/events?asset=bad//path", token: server.viewer).status == 400)
        }
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        try await APITestServer.run { server in
            let registered = Set(server.app.routes.all).union([RouteSpec(method: "GET", path: "/health"),
                                                               RouteSpec(method: "GET", path: "/metrics")])
            let documented = OpenAPIDocument.operations
            #expect(registered.subtracting(documented).isEmpty, "undocumented: \(registered.subtracting(documented))")
            #expect(documented.subtracting(registered).isEmpty, "documented but not routed: \(documented.subtracting(registered))")
            let served = try await server.http.get("/openapi.json")
            let paths = served.object["paths"] as? [String: Any] ?? [:]
            #expect(paths.count == Set(documented.map(\.path)).count)
        }
    }
}
