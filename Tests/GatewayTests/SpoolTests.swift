import Foundation
import Logging
import Testing

@testable import Gateway

/// The SQLite spool on a temporary file: order, bound, and survival across a reopen.
@Suite struct SpoolTests {
    static func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
    }

    @Test func keepsOrderDropsTheOldestWhenFullAndSurvivesAReopen() async throws {
        let path = Self.path()
        let spool = try await Spool.open(path: path, maxMessages: 3, logger: Logger(label: "test"))
        var dropped = 0
        for value in UInt8(1)...5 { dropped += try await spool.append(device: "d", payload: [value]) }
        #expect(dropped == 2)
        #expect(spool.depth == 3)
        let entries = try await spool.oldest(10)
        #expect(entries.map(\.payload) == [[3], [4], [5]])
        try await spool.remove(entries[0].id)
        await spool.close()

        let reopened = try await Spool.open(path: path, maxMessages: 3, logger: Logger(label: "test"))
        #expect(reopened.depth == 2)
        #expect(try await reopened.oldest(10).map(\.payload) == [[4], [5]])
        await reopened.close()
    }
}
