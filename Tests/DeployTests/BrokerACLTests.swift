import Foundation
import Testing

/// What one account may and may not publish, from its role (docs/deploy.md, "Broker accounts and ACL").
struct AccountCase: Sendable, CustomTestStringConvertible {
    let account: String
    let allowed: [String]
    let denied: [String]
    var testDescription: String { account }

    static let line1Press = "acme/dresden/body-shop/line-1/press-1"
    static let all: [AccountCase] = [
        AccountCase(account: "gateway",
                    allowed: ["spBv1.0/acme-dresden/DDATA/gateway-1/press-1", "spBv1.0/acme-dresden/NBIRTH/gateway-1",
                              "uns/v1/_svc/gateway/status/edge-1"],
                    denied: ["spBv1.0/acme-dresden/DDATA/gateway-2/press-1", "spBv1.0/STATE/shopfloor",
                             "spBv1.0/acme-dresden/NCMD/gateway-1", "uns/v1/\(line1Press)/value/temperature",
                             "uns/v1/_svc/stream/status/stream-1"]),
        AccountCase(account: "simulate",
                    allowed: ["spBv1.0/shopfloor-load/DDATA/edge-0/device-0",
                              "uns/v1/\(line1Press)/event/simulate.fault_injected",
                              "uns/v1/_svc/simulate/status/simulate-1"],
                    denied: ["spBv1.0/acme-dresden/NDATA/gateway-1", "uns/v1/\(line1Press)/value/temperature",
                             "uns/v1/\(line1Press)/event/alarm.raised"]),
        AccountCase(account: "stream",
                    allowed: ["uns/v1/\(line1Press)/value/temperature", "uns/v1/acme/dresden/value/power",
                              "uns/v1/\(line1Press)/event/alarm.raised", "spBv1.0/STATE/shopfloor",
                              "spBv1.0/acme-dresden/NCMD/gateway-1", "uns/v1/_svc/_reply/api-1"],
                    denied: ["spBv1.0/acme-dresden/DDATA/gateway-1/press-1", "spBv1.0/STATE/other-host",
                             "uns/v1/\(line1Press)/event/workorder.created", "uns/v1/_svc/api/status/api-1",
                             "uns/v1/\(line1Press)/debug"]),
        AccountCase(account: "api",
                    allowed: ["uns/v1/acme/dresden/filling/line-2/event/workorder.started",
                              "uns/v1/\(line1Press)/event/workorder.paused", "uns/v1/\(line1Press)/event/workorder.cancelled",
                              "uns/v1/_svc/stream/history", "uns/v1/_svc/rag-index/ask", "uns/v1/_svc/api/status/api-1"],
                    denied: ["uns/v1/\(line1Press)/value/temperature", "uns/v1/\(line1Press)/event/alarm.raised",
                             "spBv1.0/acme-dresden/NCMD/gateway-1", "uns/v1/_svc/stream/status/stream-1"]),
        AccountCase(account: "rag-index",
                    allowed: ["uns/v1/_svc/rag-index/status/rag-1", "uns/v1/_svc/_reply/api-1"],
                    denied: ["uns/v1/\(line1Press)/event/alarm.raised", "uns/v1/_svc/rag-index/ask",
                             "spBv1.0/acme-dresden/NCMD/gateway-1"]),
        AccountCase(account: "viewer", allowed: [],
                    denied: ["uns/v1/\(line1Press)/value/temperature", "uns/v1/_svc/viewer/status/x",
                             "spBv1.0/acme-dresden/NDATA/gateway-1"]),
    ]
}

@Suite("Broker accounts and ACL (real mosquitto with the generated configuration)", .serialized)
struct BrokerACLTests {
    @Test("a service publishes inside its topics; outside them nothing reaches even an unrestricted subscriber",
          arguments: AccountCase.all)
    func publishRights(_ role: AccountCase) async throws {
        let broker = try await SecuredBroker.start()
        do {
            let everything = try await broker.subscribe(as: "admin", to: ["#"], probeTopic: "test/probe")
            // One drain per batch: each publish is acknowledged (QoS 1) before the next, the marker comes last.
            var allowed: [(topic: String, payload: String)] = []
            for topic in role.allowed {
                let payload = "allowed-\(UUID().uuidString)"
                let result = try await broker.publish(as: role.account, topic: topic, payload: payload)
                #expect(result.status == 0, "\(role.account) → \(topic): \(result.error)")
                allowed.append((topic, payload))
            }
            var denied: [(topic: String, payload: String)] = []
            for topic in role.denied {
                let payload = "denied-\(UUID().uuidString)"
                try await broker.publish(as: role.account, topic: topic, payload: payload)
                denied.append((topic, payload))
            }
            try await broker.drain(everything, markerTopic: "test/marker")
            for (topic, payload) in allowed {
                #expect(everything.output.contains("\(topic) \(payload)"), "\(role.account) could not publish to \(topic)")
            }
            for (topic, payload) in denied {
                #expect(!everything.output.contains(payload), "\(role.account) published to \(topic)")
            }
            await everything.stop()
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }

    @Test("viewer reads the UNS and nothing of Sparkplug")
    func viewerReadsOnlyTheUNS() async throws {
        let broker = try await SecuredBroker.start()
        do {
            let viewer = try await broker.subscribe(as: "viewer", to: ["uns/v1/#", "spBv1.0/#"],
                                                    probeTopic: "uns/v1/_test/probe")
            let value = "value-\(UUID().uuidString)"
            let sparkplug = "sparkplug-\(UUID().uuidString)"
            try await broker.publish(as: "stream", topic: "uns/v1/acme/dresden/value/power", payload: value)
            try await broker.publish(as: "gateway", topic: "spBv1.0/acme-dresden/NDATA/gateway-1", payload: sparkplug)
            try await broker.drain(viewer, markerTopic: "uns/v1/_test/marker")
            #expect(viewer.output.contains("uns/v1/acme/dresden/value/power \(value)"))
            #expect(!viewer.output.contains(sparkplug))
            await viewer.stop()
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }

    @Test("a service reads only what its role needs: gateway gets its commands, not the UNS")
    func subscribeRights() async throws {
        let broker = try await SecuredBroker.start()
        do {
            let gateway = try await broker.subscribe(
                as: "gateway", to: ["spBv1.0/acme-dresden/NCMD/gateway-1", "uns/v1/#", "spBv1.0/acme-dresden/NCMD/+"],
                probeTopic: "spBv1.0/acme-dresden/NCMD/gateway-1")
            let other = "other-node-\(UUID().uuidString)"
            let uns = "uns-\(UUID().uuidString)"
            try await broker.publish(as: "stream", topic: "spBv1.0/acme-dresden/NCMD/gateway-9", payload: other)
            try await broker.publish(as: "stream", topic: "uns/v1/acme/dresden/value/power", payload: uns)
            try await broker.drain(gateway, markerTopic: "spBv1.0/acme-dresden/NCMD/gateway-1")
            #expect(!gateway.output.contains(other), "gateway-1 read another edge node's commands")
            #expect(!gateway.output.contains(uns), "gateway read the UNS")
            await gateway.stop()
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }

    @Test("a wrong password or an unknown account is refused")
    func wrongPasswordRefused() async throws {
        let broker = try await SecuredBroker.start()
        let wrong = try await broker.publish(as: "stream", password: "not-the-password", topic: "uns/v1/x/y/value/z",
                                             payload: "x")
        let anonymous = try await ChildProcess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", "\(broker.port)", "-t", "uns/v1/x/y/value/z", "-m", "x"])
        let right = try await broker.publish(as: "stream", topic: "uns/v1/x/y/value/z", payload: "x")
        await broker.stop()
        #expect(wrong.status != 0)
        #expect(wrong.error.lowercased().contains("not authori"), "\(wrong.error)")
        #expect(anonymous.status != 0, "an anonymous client connected")
        #expect(right.status == 0, "\(right.error)")
    }

    @Test("TLS listener: certificates from scripts/certs.sh, the same accounts; no plain MQTT on it")
    func tlsListener() async throws {
        let broker = try await SecuredBroker.start(tls: true)
        do {
            let everything = try await broker.subscribe(as: "admin", to: ["#"], probeTopic: "test/probe")
            let ca = broker.folder.appendingPathComponent("certs/ca.crt").path
            let secured = try await broker.publishOverTLS(as: "stream", caFile: ca, topic: "uns/v1/acme/dresden/value/power",
                                                          payload: "over-tls")
            let byAddress = try await broker.publishOverTLS(as: "stream", host: "127.0.0.1", caFile: ca,
                                                            topic: "uns/v1/acme/dresden/value/power", payload: "by-address")
            let plain = try await broker.publishOverTLS(as: "stream", caFile: nil, topic: "uns/v1/acme/dresden/value/power",
                                                        payload: "plain-on-tls")
            let outside = try await broker.publishOverTLS(as: "stream", caFile: ca, topic: "uns/v1/acme/dresden/event/workorder.created",
                                                          payload: "outside-over-tls")
            try await broker.drain(everything, markerTopic: "test/marker")
            #expect(secured.status == 0, "\(secured.error)")
            #expect(byAddress.status == 0, "the server certificate covers 127.0.0.1: \(byAddress.error)")
            #expect(plain.status != 0, "plain MQTT accepted on the TLS port")
            #expect(everything.output.contains("over-tls") && everything.output.contains("by-address"))
            #expect(!everything.output.contains("plain-on-tls") && !everything.output.contains("outside-over-tls"))
            await everything.stop()
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }

    @Test("every event type of the schema library (docs/schemas) can be published by exactly one service account")
    func everyEventTypeHasAPublisher() async throws {
        let generated = try await ChildProcess.run([Repository.path("scripts/broker-config.sh"), "--acl"], inherit: false)
        let schemas = try FileManager.default.contentsOfDirectory(atPath: Repository.path("docs/schemas"))
        // io.shopfloor.workorder.paused.v1.json → workorder.paused, the last level of its UNS topic.
        let shortTypes = schemas.filter { $0.hasPrefix("io.shopfloor.") && $0.hasSuffix(".v1.json") }
            .map { String($0.dropFirst("io.shopfloor.".count).dropLast(".v1.json".count)) }
        #expect(shortTypes.count >= 13, "docs/schemas: \(schemas)")
        var publishers: [String: Set<String>] = [:]
        var account = ""
        for line in generated.output.split(separator: "\n") {
            if line.hasPrefix("user ") { account = String(line.dropFirst(5)) }
            if line.hasPrefix("topic write "), account != "admin", let type = line.split(separator: "/").last {
                publishers[String(type), default: []].insert(account)
            }
        }
        for type in shortTypes {
            #expect(publishers[type]?.count == 1, "\(type) is published by \(publishers[type] ?? []) in the ACL")
        }
    }

    @Test("the committed deploy/mosquitto/acl is what broker-config.sh generates for the default plant")
    func committedACLIsCurrent() async throws {
        let generated = try await ChildProcess.run([Repository.path("scripts/broker-config.sh"), "--acl"], inherit: false)
        let committed = try String(contentsOfFile: Repository.path("deploy/mosquitto/acl"), encoding: .utf8)
        #expect(generated.status == 0)
        #expect(generated.output == committed, "regenerate: scripts/broker-config.sh --acl > deploy/mosquitto/acl")
    }
}
