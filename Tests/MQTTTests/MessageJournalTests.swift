import Foundation
@testable import MQTT
import Testing
import TestSupport

@Suite("Message journal format (no I/O)")
struct MessageJournalFormatTests {
    @Test func recordRoundTrips() throws {
        var buffer: [UInt8] = []
        let message = MQTTMessage(topic: "spBv1.0/g/NDATA/e", payload: [0, 255, 7], qos: .atLeastOnce, retain: true)
        MessageJournalFormat.encode(message, receivedNanoseconds: 1_700_000_000_123_456_789, into: &buffer)
        let decoded = buffer.withUnsafeBytes { MessageJournalFormat.decode($0, at: 0) }
        guard case .record(let qos, let retain, let nanoseconds, let topic, let payload, let size) = decoded else {
            Issue.record("expected a record, got \(decoded)")
            return
        }
        #expect(qos == .atLeastOnce && retain && topic == message.topic && payload == message.payload)
        #expect(nanoseconds == 1_700_000_000_123_456_789)
        #expect(size == buffer.count)
    }

    @Test func flippedBitFailsTheChecksum() {
        var buffer: [UInt8] = []
        MessageJournalFormat.encode(MQTTMessage(topic: "t", payload: Array("payload".utf8)), receivedNanoseconds: 0, into: &buffer)
        buffer[buffer.count - 2] ^= 0x10
        let decoded = buffer.withUnsafeBytes { MessageJournalFormat.decode($0, at: 0) }
        guard case .corrupt(let reason) = decoded else {
            Issue.record("expected corrupt, got \(decoded)")
            return
        }
        #expect(reason.contains("checksum"))
    }

    @Test func cutRecordIsIncomplete() {
        var buffer: [UInt8] = []
        MessageJournalFormat.encode(MQTTMessage(topic: "t", payload: [1, 2, 3]), receivedNanoseconds: 0, into: &buffer)
        let decoded = buffer.dropLast(2).withUnsafeBytes { MessageJournalFormat.decode($0, at: 0) }
        guard case .incomplete(let needed) = decoded else {
            Issue.record("expected incomplete, got \(decoded)")
            return
        }
        #expect(needed == buffer.count)
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}

@Suite("Message journal files")
struct MessageJournalFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("journal", separator: "-"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func message(_ number: Int) -> MQTTMessage {
        MQTTMessage(topic: "line/\(number % 3)", payload: Array("value-\(number)".utf8), qos: .atLeastOnce)
    }

    func fileSize(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }

    @Test func appendedRecordsSurviveReopen() throws {
        let path = directory.appendingPathComponent("j").path
        do {
            let journal = try MessageJournal(path: path)
            for number in 0..<100 { try journal.append(message(number)) }
        }
        let reopened = try MessageJournal(path: path)
        #expect(reopened.recovery == .init(records: 100, truncatedBytes: 0))
        let records = try reopened.read(from: reopened.acknowledgedPosition, limit: 1000)
        #expect(records.map(\.message) == (0..<100).map(message))
    }

    @Test func tornTailIsTruncated() throws {
        let path = directory.appendingPathComponent("j").path
        do {
            let journal = try MessageJournal(path: path)
            for number in 0..<10 { try journal.append(message(number)) }
        }
        let intact = try fileSize(path)
        // A record cut short, as a kill in the middle of write(2) would leave it.
        var torn: [UInt8] = []
        MessageJournalFormat.encode(message(10), receivedNanoseconds: 0, into: &torn)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: torn.prefix(torn.count - 3))
        try handle.close()

        let journal = try MessageJournal(path: path)
        #expect(journal.recovery.records == 10)
        #expect(journal.recovery.truncatedBytes == UInt64(torn.count - 3))
        #expect(try fileSize(path) == intact)
        try journal.append(message(11))
        let records = try journal.read(from: journal.acknowledgedPosition, limit: 100)
        #expect(records.map(\.message) == (0..<10).map(message) + [message(11)])
    }

    @Test func corruptRecordEndsTheJournal() throws {
        let path = directory.appendingPathComponent("j").path
        var positions: [MessageJournal.Record] = []
        do {
            let journal = try MessageJournal(path: path)
            for number in 0..<5 { try journal.append(message(number)) }
            positions = try journal.read(from: journal.acknowledgedPosition, limit: 10)
        }
        // Flip a payload byte of record 2 (file offset = header + logical position).
        let offset = MessageJournalFormat.headerSize + Int(positions[2].next.offset) - 2
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[offset] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        #expect(try MessageJournal.records(atPath: path).count == 2, "read-only inspection stops at the bad record too")
        let journal = try MessageJournal(path: path)
        #expect(journal.recovery.records == 2)
        #expect(journal.recovery.reason?.contains("checksum") == true)
        #expect(try journal.read(from: journal.acknowledgedPosition, limit: 10).map(\.message) == [message(0), message(1)])
    }

    @Test func acknowledgeAndCompactKeepPositionsValid() throws {
        let path = directory.appendingPathComponent("j").path
        let journal = try MessageJournal(path: path)
        for number in 0..<10 { try journal.append(message(number)) }
        let firstBatch = try journal.read(from: journal.acknowledgedPosition, limit: 4)
        #expect(firstBatch.map(\.message) == (0..<4).map(message))
        try journal.acknowledge(through: firstBatch[3].next)
        let sizeBefore = try fileSize(path)
        try journal.compact()
        #expect(try fileSize(path) < sizeBefore)
        // A position handed out before compaction still reads the same record.
        let rest = try journal.read(from: firstBatch[3].next, limit: 100)
        #expect(rest.map(\.message) == (4..<10).map(message))
        try journal.append(message(10))

        let reopened = try MessageJournal(path: path)
        #expect(reopened.acknowledgedPosition == firstBatch[3].next)
        #expect(try reopened.read(from: reopened.acknowledgedPosition, limit: 100).map(\.message) == (4..<11).map(message))
    }

    @Test func refusesToOverwriteAForeignFile() throws {
        let path = directory.appendingPathComponent("notes.txt").path
        try Data("these are not journal records at all".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: MQTTError.self) { try MessageJournal(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "these are not journal records at all")
    }
}
