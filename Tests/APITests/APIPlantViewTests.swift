@testable import APICore
import EventSchema
import Foundation
import TestSupport
import Testing

/// What the dashboard shows of a plant fed like the test plant (`make run`): machines with states, counters
/// and a cycle time setpoint, no work orders, and a gateway whose own metrics have no asset path.
@Suite("api plant view", .serialized)
struct APIPlantViewTests {
    static let line = "acme/dresden/body-shop/line-1"

    /// The test plant has no work orders, so no product cycle time: the line's OEE used to be null ("—").
    /// The machines publish `cycleTimeSetpoint`, which now stands in as their ideal cycle time.
    @Test func aLineWithRunningMachinesHasAnOEEWithoutWorkOrders() async throws {
        try await APITestServer.run { server in
            let now = Date()
            let start = now.addingTimeInterval(-600)
            for machine in ["press-1", "press-2"] {
                let asset = "\(Self.line)/\(machine)"
                let path = try ISA95Path.parse(asset)
                try await server.publishValue(asset: asset, metric: "cycleTimeSetpoint", value: 4,
                                              ts: RFC3339.string(from: start))
                try await server.publish(EquipmentStateChanged(asset: path, from: nil, to: .running, since: start),
                                         id: "\(machine)-run", time: start)
                // 60 parts in a minute, 3 of them scrap.
                try await server.publish(ProductionCounted(asset: path, good: 57, scrap: 3, total: 60,
                                                           windowStart: start.addingTimeInterval(60),
                                                           windowEnd: start.addingTimeInterval(120)),
                                         id: "\(machine)-count", time: start.addingTimeInterval(120))
            }
            let from = Int64(start.timeIntervalSince1970 * 1000), to = Int64(now.timeIntervalSince1970 * 1000)
            var overall: [String: Any] = [:]
            try await poll("the line's OEE to be a number") {
                let report = try await server.http.get("/v1/oee?asset=\(Self.line)&from=\(from)&to=\(to)", token: server.viewer)
                overall = report.object["overall"] as? [String: Any] ?? [:]
                return overall["oee"] is Double
            }
            // Both machines ran the whole range: A = 1; P = 2 × 60 parts × 4 s / 1200 s = 0.4; Q = 114 / 120.
            let availability = try #require(overall["availability"] as? Double)
            let performance = try #require(overall["performance"] as? Double)
            let quality = try #require(overall["quality"] as? Double)
            let oee = try #require(overall["oee"] as? Double)
            #expect(abs(availability - 1) < 1e-9)
            #expect(abs(performance - 0.4) < 0.01)
            #expect(abs(quality - 0.95) < 1e-9)
            #expect(abs(oee - availability * performance * quality) < 1e-9)
            #expect(overall["producedWithoutIdealCycle"] as? Int == 0)
        }
    }

    /// The gateway's own metrics arrive under `<group>/<edge>` (no asset declared for the edge node): they are
    /// readable as values but are not an enterprise next to `acme` in the tree.
    @Test func theAssetTreeHoldsOnlyISA95Assets() async throws {
        try await APITestServer.run { server in
            try await server.publishValue(asset: "\(Self.line)/press-1", metric: "temperature", value: 40)
            try await server.publishValue(asset: "acme-dresden/gateway-1", metric: "spoolDepth", value: 0)
            try await poll("both values to arrive") {
                server.app.cache.values(of: "acme-dresden/gateway-1") != nil
                    && server.app.cache.values(of: "\(Self.line)/press-1") != nil
            }
            let tree = try await server.http.get("/v1/assets", token: server.viewer)
            let roots = tree.object["assets"] as? [[String: Any]] ?? []
            #expect(roots.compactMap { $0["path"] as? String } == ["acme"])
            #expect(tree.text.contains("\"path\":\"\(Self.line)/press-1\""))
            #expect(!tree.text.contains("gateway-1"))
            // Still answered as values.
            #expect(try await server.http.get("/v1/values?asset=acme-dresden/gateway-1", token: server.viewer).status == 200)
        }
    }
}
