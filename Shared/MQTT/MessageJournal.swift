import Foundation
import Synchronization

/// An append-only file of received MQTT messages: the cheap durable step a consumer takes inside
/// `on_message` (one `write(2)` per message instead of a database commit), before the QoS 1 PUBACK.
///
/// Durability: `append` returns once the record is in the kernel's page cache, which survives the process
/// being killed (even `SIGKILL`); `SyncPolicy` adds `fdatasync` for power loss. On open the file is scanned
/// and cut at the first torn or corrupt record (length + CRC-32 framing, see `MessageJournalFormat`), so a
/// crash mid-write loses only a message the broker was never acknowledged for and redelivers.
///
/// A loader reads records in batches from `acknowledgedPosition`, stores them, calls `acknowledge(through:)`
/// (persisted in `<path>.ack`) and now and then `compact()` to drop what the store has taken. Positions stay
/// valid across compaction. Redelivery means a record can appear twice: stores must be idempotent.
public final class MessageJournal: Sendable {
    /// When appended records are forced to stable storage.
    public enum SyncPolicy: Sendable, Hashable {
        /// Never: survives process crashes, not power loss.
        case never
        /// `fdatasync` on the first append after `interval` has passed since the last one.
        case interval(Duration)
        /// `fdatasync` after every append (slow; survives power loss per message).
        case always
    }

    /// A logical position in the journal: before the first record, between two, or at the end.
    public struct Position: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// Byte offset in the journal's logical (never reset) address space.
        public let offset: UInt64
        public static func < (lhs: Position, rhs: Position) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "\(offset)" }
    }

    /// One journaled message.
    public struct Record: Sendable, Hashable {
        /// The message as received (topic, payload, QoS, retain; MQTT properties are not journaled).
        public var message: MQTTMessage
        /// When the client received it.
        public var receivedAt: Date
        /// Where the record starts.
        public var position: Position
        /// Where the next record starts; pass it to `acknowledge(through:)` once this one is stored.
        public var next: Position
    }

    /// What the open-time scan found.
    public struct Recovery: Sendable, Hashable {
        /// Valid records in the file (acknowledged or not).
        public var records: Int
        /// Bytes cut off after the last valid record (a torn write or corruption); 0 after a clean stop.
        public var truncatedBytes: UInt64
        /// Why the scan stopped early, when it did.
        public var reason: String?
    }

    /// The journal file.
    public let path: String
    /// The result of the scan when the journal was opened.
    public let recovery: Recovery
    private let syncPolicy: SyncPolicy
    /// File descriptor, positions and the reusable encode buffer; appends and readers serialise here.
    private let state: Mutex<State>

    private struct State {
        var descriptor: Int32
        var base: UInt64
        var end: UInt64
        var acknowledged: UInt64
        var lastSync: ContinuousClock.Instant
        var buffer: [UInt8] = []
    }

    /// Opens (or creates) the journal at `path`, truncating a torn or corrupt tail.
    public init(path: String, sync: SyncPolicy = .never) throws(MQTTError) {
        self.path = path
        syncPolicy = sync
        let descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw MessageJournal.error("open", path: path) }
        do {
            let scan = try MessageJournal.scan(descriptor: descriptor, path: path, repairing: true)
            var acknowledged = MessageJournal.readAcknowledged(path: path) ?? scan.base
            // A stale or torn .ack (or one from before a crash mid-compaction) must not skip records.
            if acknowledged < scan.base || acknowledged > scan.end || !scan.boundaries.contains(acknowledged) {
                acknowledged = scan.base
            }
            recovery = scan.recovery
            state = Mutex(State(descriptor: descriptor, base: scan.base, end: scan.end, acknowledged: acknowledged,
                                lastSync: .now))
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit {
        state.withLock { _ = close($0.descriptor) }
    }

    /// Appends `message` with one `write(2)`; when this returns the record survives a process kill.
    public func append(_ message: MQTTMessage, receivedAt: Date = Date()) throws(MQTTError) {
        let nanoseconds = Int64((receivedAt.timeIntervalSince1970 * 1e9).rounded())
        try state.withLock { (state: inout State) throws(MQTTError) in
            state.buffer.removeAll(keepingCapacity: true)
            MessageJournalFormat.encode(message, receivedNanoseconds: nanoseconds, into: &state.buffer)
            let written = state.buffer.withUnsafeBytes { MessageJournal.writeAll(state.descriptor, $0) }
            guard written == state.buffer.count else {
                let error = MessageJournal.error("append to", path: path)
                // Cut a partial record now rather than leave it for the next open's scan.
                let fileEnd = state.end - state.base + UInt64(MessageJournalFormat.headerSize)
                _ = ftruncate(state.descriptor, off_t(fileEnd))
                throw error
            }
            state.end += UInt64(written)
            switch syncPolicy {
            case .never:
                break
            case .always:
                try MessageJournal.sync(state.descriptor, path: path)
            case .interval(let interval):
                if state.lastSync.duration(to: .now) >= interval {
                    try MessageJournal.sync(state.descriptor, path: path)
                    state.lastSync = .now
                }
            }
        }
    }

    /// Forces appended records to stable storage.
    public func sync() throws(MQTTError) {
        try state.withLock { (state: inout State) throws(MQTTError) in try MessageJournal.sync(state.descriptor, path: path) }
    }

    /// Where the next unacknowledged record starts: where a loader begins after a restart.
    public var acknowledgedPosition: Position { Position(offset: state.withLock { $0.acknowledged }) }

    /// The end of the journal: the position the next append gets.
    public var endPosition: Position { Position(offset: state.withLock { $0.end }) }

    /// Up to `limit` records starting at `position` (a record's `position`/`next`, or `acknowledgedPosition`).
    public func read(from position: Position, limit: Int) throws(MQTTError) -> [Record] {
        try state.withLock { (state: inout State) throws(MQTTError) -> [Record] in
            guard position.offset >= state.base, position.offset <= state.end else {
                throw MQTTError(code: .journal, message: "position \(position) is outside \(state.base)...\(state.end) (already compacted?)",
                                context: "read journal \(path)")
            }
            let fileOffset = position.offset - state.base + UInt64(MessageJournalFormat.headerSize)
            let fileEnd = state.end - state.base + UInt64(MessageJournalFormat.headerSize)
            var records: [Record] = []
            try MessageJournal.forEachRecord(descriptor: state.descriptor, path: path, from: fileOffset, to: fileEnd) { (record: RawRecord, offset: UInt64) throws(MQTTError) -> Bool in
                let start = Position(offset: offset - UInt64(MessageJournalFormat.headerSize) + state.base)
                records.append(Record(message: record.message, receivedAt: record.receivedAt, position: start,
                                      next: Position(offset: start.offset + UInt64(record.size))))
                return records.count < limit
            } corrupt: { (reason: String, offset: UInt64) throws(MQTTError) in
                throw MQTTError(code: .journal, message: "corrupt record at byte \(offset): \(reason)", context: "read journal \(path)")
            }
            return records
        }
    }

    /// Marks everything before `position` as stored; persisted so a restart resumes from there.
    public func acknowledge(through position: Position) throws(MQTTError) {
        try state.withLock { (state: inout State) throws(MQTTError) in
            guard position.offset >= state.acknowledged, position.offset <= state.end else { return }
            try MessageJournal.writeAcknowledged(position.offset, path: path)
            state.acknowledged = position.offset
        }
    }

    /// Drops acknowledged records from the file: the unacknowledged tail is copied to a new file which
    /// atomically replaces the old one (so a crash leaves one or the other, never a mix).
    public func compact() throws(MQTTError) {
        try state.withLock { (state: inout State) throws(MQTTError) in
            guard state.acknowledged > state.base else { return }
            let temporary = path + ".compact"
            let target = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard target >= 0 else { throw MessageJournal.error("create", path: temporary) }
            var keep = false
            defer {
                if !keep {
                    close(target)
                    unlink(temporary)
                }
            }
            let header = MessageJournalFormat.header(base: state.acknowledged)
            guard header.withUnsafeBytes({ MessageJournal.writeAll(target, $0) }) == header.count else {
                throw MessageJournal.error("write", path: temporary)
            }
            var from = state.acknowledged - state.base + UInt64(MessageJournalFormat.headerSize)
            let fileEnd = state.end - state.base + UInt64(MessageJournalFormat.headerSize)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while from < fileEnd {
                let count = Int(min(UInt64(chunk.count), fileEnd - from))
                let read = chunk.withUnsafeMutableBytes { pread(state.descriptor, $0.baseAddress, count, off_t(from)) }
                guard read > 0 else { throw MessageJournal.error("read", path: path) }
                guard chunk.withUnsafeBytes({ MessageJournal.writeAll(target, UnsafeRawBufferPointer(rebasing: $0[..<read])) }) == read else {
                    throw MessageJournal.error("write", path: temporary)
                }
                from += UInt64(read)
            }
            try MessageJournal.sync(target, path: temporary)
            guard rename(temporary, path) == 0 else { throw MessageJournal.error("rename over", path: path) }
            keep = true
            // The new file is opened O_RDWR without O_APPEND above; reopen it for appends.
            close(target)
            let reopened = open(path, O_RDWR | O_APPEND | O_CLOEXEC)
            guard reopened >= 0 else { throw MessageJournal.error("reopen", path: path) }
            close(state.descriptor)
            state.descriptor = reopened
            state.base = state.acknowledged
        }
    }

    /// Reads every valid record of the journal at `path` without changing it (for inspection while a writer
    /// may be appending: a record being written is simply not returned yet).
    public static func records(atPath path: String) throws(MQTTError) -> [Record] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw error("open", path: path) }
        defer { close(descriptor) }
        return try scan(descriptor: descriptor, path: path, repairing: false).records
    }

    // MARK: File handling

    private struct Scan {
        var base: UInt64
        var end: UInt64
        var boundaries: Set<UInt64>
        var records: [Record]
        var recovery: Recovery
    }

    /// Reads the header and every record; with `repairing`, writes a missing header and cuts a bad tail.
    private static func scan(descriptor: Int32, path: String, repairing: Bool) throws(MQTTError) -> Scan {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw error("stat", path: path) }
        let size = UInt64(info.st_size)
        var header = [UInt8](repeating: 0, count: MessageJournalFormat.headerSize)
        let headerRead = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        let base: UInt64
        if headerRead < MessageJournalFormat.headerSize {
            // New file, or killed while writing the header: no record can exist yet.
            guard repairing else {
                return Scan(base: 0, end: 0, boundaries: [0], records: [], recovery: Recovery(records: 0, truncatedBytes: 0))
            }
            let fresh = MessageJournalFormat.header(base: 0)
            guard ftruncate(descriptor, 0) == 0,
                  fresh.withUnsafeBytes({ writeAll(descriptor, $0) }) == fresh.count else { throw error("initialise", path: path) }
            return Scan(base: 0, end: 0, boundaries: [0], records: [],
                        recovery: Recovery(records: 0, truncatedBytes: size, reason: size > 0 ? "torn header" : nil))
        } else if let parsed = MessageJournalFormat.base(fromHeader: header[...]) {
            base = parsed
        } else {
            throw MQTTError(code: .journal, message: "not a message journal (bad header); refusing to overwrite it",
                            context: "open journal \(path)")
        }
        var records: [Record] = []
        var boundaries: Set<UInt64> = [base]
        var validEnd = UInt64(MessageJournalFormat.headerSize)
        var reason: String?
        try forEachRecord(descriptor: descriptor, path: path, from: validEnd, to: size) { (record: RawRecord, offset: UInt64) throws(MQTTError) -> Bool in
            let start = offset - UInt64(MessageJournalFormat.headerSize) + base
            let next = start + UInt64(record.size)
            records.append(Record(message: record.message, receivedAt: record.receivedAt, position: Position(offset: start),
                                  next: Position(offset: next)))
            boundaries.insert(next)
            validEnd = offset + UInt64(record.size)
            return true
        } corrupt: { (why: String, _: UInt64) throws(MQTTError) in
            reason = why
        }
        if validEnd < size {
            reason = reason ?? "torn record"
            if repairing, ftruncate(descriptor, off_t(validEnd)) != 0 { throw error("truncate", path: path) }
        }
        return Scan(base: base, end: base + validEnd - UInt64(MessageJournalFormat.headerSize), boundaries: boundaries,
                    records: records, recovery: Recovery(records: records.count, truncatedBytes: size - validEnd, reason: reason))
    }

    fileprivate struct RawRecord {
        var message: MQTTMessage
        var receivedAt: Date
        var size: Int
    }

    /// Calls `body` for each valid record in the file range (1 MiB reads); stops when it returns false,
    /// at the end, or at a corrupt record (reported to `corrupt`). A record cut by `end` counts as torn.
    private static func forEachRecord(descriptor: Int32, path: String, from start: UInt64, to end: UInt64,
                                      _ body: (RawRecord, UInt64) throws(MQTTError) -> Bool,
                                      corrupt: (String, UInt64) throws(MQTTError) -> Void) throws(MQTTError) {
        var chunkOffset = start
        var chunk: [UInt8] = []
        while chunkOffset < end {
            let wanted = Int(min(end - chunkOffset, UInt64(max(1 << 20, chunk.count))))
            chunk = [UInt8](repeating: 0, count: wanted)
            let read = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(chunkOffset)) }
            guard read >= 0 else { throw error("read", path: path) }
            if read == 0 { return }
            var consumed = 0
            var needMore = 0
            var failure: MQTTError?
            chunk.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                let valid = UnsafeRawBufferPointer(rebasing: bytes[..<read])
                while consumed < read {
                    switch MessageJournalFormat.decode(valid, at: consumed) {
                    case .record(let qos, let retain, let nanoseconds, let topic, let payload, let size):
                        let message = MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain)
                        let record = RawRecord(message: message, receivedAt: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9), size: size)
                        do throws(MQTTError) {
                            guard try body(record, chunkOffset + UInt64(consumed)) else {
                                needMore = -1
                                return
                            }
                        } catch {
                            failure = error
                            return
                        }
                        consumed += size
                    case .incomplete(let needed):
                        needMore = needed
                        return
                    case .corrupt(let reason):
                        do throws(MQTTError) {
                            try corrupt(reason, chunkOffset + UInt64(consumed))
                        } catch {
                            failure = error
                        }
                        needMore = -1
                        return
                    }
                }
            }
            if let failure { throw failure }
            if needMore < 0 { return }
            if needMore > 0 {
                // The record runs past this chunk: re-read from its start, large enough to hold it,
                // unless the file itself ends first (a torn tail).
                if chunkOffset + UInt64(consumed) + UInt64(needMore) > end { return }
                if consumed == 0 { chunk = [UInt8](repeating: 0, count: needMore) }
            }
            chunkOffset += UInt64(consumed)
            if consumed == 0 && needMore == 0 { return }
        }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        var done = 0
        while done < bytes.count {
            let result = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if result < 0 {
                if errno == EINTR { continue }
                return done
            }
            done += result
        }
        return done
    }

    private static func sync(_ descriptor: Int32, path: String) throws(MQTTError) {
        guard fdatasync(descriptor) == 0 else { throw error("fdatasync", path: path) }
    }

    private static func readAcknowledged(path: String) -> UInt64? {
        let descriptor = open(path + ".ack", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 12)
        guard bytes.withUnsafeMutableBytes({ pread(descriptor, $0.baseAddress, 12, 0) }) == 12,
              CRC32.checksum(Array(bytes[0..<8])) == MessageJournalFormat.read(UInt32.self, bytes[...], at: 8) else { return nil }
        return MessageJournalFormat.read(UInt64.self, bytes[...], at: 0)
    }

    /// 12 bytes rewritten in place; a torn write fails its CRC and falls back to "nothing acknowledged",
    /// which only causes redelivery to the store, never loss.
    private static func writeAcknowledged(_ offset: UInt64, path: String) throws(MQTTError) {
        let descriptor = open(path + ".ack", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw error("open", path: path + ".ack") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        MessageJournalFormat.append(offset, to: &bytes)
        MessageJournalFormat.append(CRC32.checksum(bytes), to: &bytes)
        guard bytes.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, 12, 0) }) == 12 else {
            throw error("write", path: path + ".ack")
        }
    }

    private static func error(_ action: String, path: String) -> MQTTError {
        let code = errno
        return MQTTError(code: .journal, message: String(cString: strerror(code)), context: "\(action) journal \(path)")
    }
}
