import Foundation
import MQTT
import Testing
import TestSupport

@Suite("MQTT 5 request/response")
struct RequestResponseTests {
    struct NoSuchSeries: Error, CustomStringConvertible {
        var description: String { "no series \"oven/temp\"" }
    }

    @Test func requestGetsTheMatchingResponse() async throws {
        let prefix = TestEnvironment.uniqueName()
        let server = try makeClient("responder")
        let caller = try makeClient("requester")
        try await server.connect()
        try await caller.connect()
        let ready = LockedValue(false)
        let serving = Task {
            try await MQTTResponder(client: server, requestFilter: "\(prefix)/history").run(ready: { ready.withLock { $0 = true } }) { request in
                let query = String(decoding: request.payload, as: UTF8.self)
                if query == "oven/temp" { throw NoSuchSeries() }
                return Array("rows for \(query)".utf8)
            }
        }
        try await poll("responder subscribed") { ready.value }
        let requester = try await MQTTRequester(client: caller, responseTopic: "\(prefix)/reply")

        // Concurrent requests each get their own answer.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for series in ["press/force", "press/count", "line/speed"] {
                group.addTask {
                    let response = try await requester.request(topic: "\(prefix)/history", payload: Array(series.utf8))
                    #expect(String(decoding: response.payload, as: UTF8.self) == "rows for \(series)")
                }
            }
            try await group.waitForAll()
        }
        await #expect {
            try await requester.request(topic: "\(prefix)/history", payload: Array("oven/temp".utf8))
        } throws: { error in
            (error as? MQTTError)?.code == .remoteFailure && "\(error)".contains("no series \"oven/temp\"")
        }
        serving.cancel()
        await server.disconnect()
        await caller.disconnect()
    }

    @Test func requestWithoutResponderTimesOut() async throws {
        let prefix = TestEnvironment.uniqueName()
        let caller = try makeClient("requester")
        try await caller.connect()
        let requester = try await MQTTRequester(client: caller, responseTopic: "\(prefix)/reply")
        let clock = ContinuousClock()
        let started = clock.now
        await #expect {
            try await requester.request(topic: "\(prefix)/nobody", payload: [], timeout: .milliseconds(200))
        } throws: { error in
            (error as? MQTTError)?.code == .timeout
        }
        // It gave up rather than hung; the bound is loose because a loaded CI machine is slow, not wrong.
        #expect(clock.now - started < .seconds(10))
        await caller.disconnect()
    }
}
