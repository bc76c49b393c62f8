@testable import APICore
import EventSchema
import Foundation
import Logging
import Postgres
import TestSupport
import Testing

/// The same store queries on PostgreSQL (the `postgres://` store), each test in a schema of its own.
@Suite("api store on PostgreSQL")
struct APIStorePostgresTests {
    static func open() async throws -> APIStore {
        let host = try TestEnvironment.require("POSTGRES_HOST")
        let port = try TestEnvironment.requireInt("POSTGRES_PORT")
        let user = try TestEnvironment.require("POSTGRES_USER")
        let database = try TestEnvironment.require("POSTGRES_DB")
        let configuration = PostgresConfiguration(host: host, port: port, user: user, database: database)
        let schema = "api_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        return try await APIStore.open(.postgres(configuration, schema: schema), logger: Logger(label: "api-pg-test"))
    }

    @Test func usersReadModelsAndWorkOrdersRoundTrip() async throws {
        let store = try await Self.open()
        _ = try await store.createUser(name: "ada", role: .admin, password: "password-ada")
        #expect(try await store.verifyPassword(user: "ada", password: "password-ada") == .admin)
        #expect(try await store.verifyPassword(user: "ada", password: "nope") == nil)
        let path = try ISA95Path.parse("acme/plant1/press-area/line-1/press-3")
        try await store.registerAsset(path)
        #expect(try await store.assetPaths().count == 5)
        let insert: [(String, [SQLValue])] = [("INSERT INTO state_changes (event_id, path, state, since) VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                                               [.text("s1"), .text(path.description), .text("down"), .integer(1_000)])]
        #expect(try await store.apply(eventKey: "src|s1", statements: insert))
        #expect(try await !store.apply(eventKey: "src|s1", statements: insert))
        #expect(try await store.stateChanges(under: "acme/plant1").count == 1)
        try await store.upsertProduct(Product(id: "BRK-1", name: "Bracket", idealCycleSeconds: 2))
        let draft = try WorkOrderInput(id: "WO-1", product: "BRK-1", quantityTarget: 5, asset: "acme/plant1/press-area/line-1").validated()
        _ = try await store.insertWorkOrder(draft)
        try await store.transitionWorkOrder("WO-1", from: .created, to: .released)
        try await store.transitionWorkOrder("WO-1", from: .released, to: .running)
        #expect(try await store.runningWorkOrder(containing: path) == "WO-1")
        _ = try await store.apply(eventKey: "src|p1", statements: [(
            "INSERT INTO production (event_id, path, good, scrap, total, window_start, window_end, work_order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [.text("p1"), .text(path.description), .integer(7), .integer(1), .integer(8), .integer(0), .integer(60_000), .text("WO-1")])])
        let order = try #require(try await store.workOrder("WO-1"))
        #expect(order.good == 7 && order.scrap == 1 && order.status == .running)
        let production = try await store.production(under: "acme/plant1", from: 0, to: 120_000)
        #expect(production.first?.slice == ProductionSlice(good: 7, scrap: 1, idealCycleSeconds: 2))
        await store.close()
    }
}
