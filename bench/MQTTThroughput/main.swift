// MQTTThroughput: our client as a subscriber, for bench/mqtt-bench.sh, which compares it with
// bench/c-subscriber on the same broker, topic and backlog.
//
//   MQTTThroughput <mode> <host> <port> <topic> <qos> <count> <client-id> prime|run [path]
//
// modes: stream  - messages via MQTTClient.messages (AsyncStream), counted by a task
//        callback - a durable handler that only counts: the client's own cost without the stream hop
//        durable - durable handler appends each message to a MessageJournal at <path> inside on_message
//        sqlite  - durable handler inserts each message into SQLite at <path>, one commit per message
//                  (WAL, synchronous=NORMAL): the alternative the journal replaces
// prime subscribes with a persistent session and exits, so the broker queues the publisher's backlog;
// run resumes the session and prints "msgs/s <rate>" from the first to the <count>th message.
import CSQLite
import Foundation
import Logging
import MQTT
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count >= 9, let port = Int(arguments[3]), let qosNumber = Int32(arguments[5]),
      let qos = MQTTQoS(rawValue: qosNumber), let count = Int(arguments[6]) else {
    FileHandle.standardError.write(Data("usage: MQTTThroughput stream|callback|durable|sqlite <host> <port> <topic> <qos> <count> <client-id> prime|run [path]\n".utf8))
    exit(2)
}
let (mode, host, topic, clientID, phase) = (arguments[1], arguments[2], arguments[4], arguments[7], arguments[8])
let path = arguments.count > 9 ? arguments[9] : "/tmp/mqtt-throughput-\(mode)"
var logger = Logger(label: "mqtt-throughput")
logger.logLevel = .warning

/// Counts deliveries and records the first and the last time, from whichever thread delivers.
final class Meter: Sendable {
    struct State {
        var received = 0
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
        var done: CheckedContinuation<Void, Never>?
        var finished = false
    }

    let target: Int
    let state = Mutex(State())

    init(target: Int) { self.target = target }

    func tick() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.received == 0 { state.first = .now }
            state.received += 1
            guard state.received == target else { return nil }
            state.last = .now
            state.finished = true
            defer { state.done = nil }
            return state.done
        }
        continuation?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let finished = state.withLock { state in
                if !state.finished { state.done = continuation }
                return state.finished
            }
            if finished { continuation.resume() }
        }
    }

    var report: String {
        state.withLock { state in
            guard let first = state.first, let last = state.last else { return "msgs/s 0" }
            let seconds = Double((last - first).components.attoseconds) / 1e18 + Double((last - first).components.seconds)
            return String(format: "msgs/s %.0f (%d messages in %.3f s)", Double(state.received) / seconds, state.received, seconds)
        }
    }
}

/// One SQLite connection with a prepared INSERT, committing every message (autocommit). Used only on the
/// MQTT network thread, which is what makes the `@unchecked Sendable` true.
final class SQLiteSink: @unchecked Sendable {
    let database: OpaquePointer
    let insert: OpaquePointer

    init(path: String) throws {
        unlink(path)
        var handle: OpaquePointer?
        guard sqlite3_open(path, &handle) == SQLITE_OK, let handle else { throw CocoaError(.fileWriteUnknown) }
        database = handle
        for sql in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                    "CREATE TABLE journal(id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER, received REAL)"] {
            guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else { throw CocoaError(.fileWriteUnknown) }
        }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(database, "INSERT INTO journal(topic, payload, qos, received) VALUES (?, ?, ?, ?)", -1, &statement, nil) == SQLITE_OK,
              let statement else { throw CocoaError(.fileWriteUnknown) }
        insert = statement
    }

    struct InsertFailed: Error { let code: Int32 }

    func append(_ message: MQTTMessage) throws {
        defer { sqlite3_reset(insert) }
        sqlite3_bind_text(insert, 1, message.topic, -1, shopfloor_sqlite_transient())
        _ = message.payload.withUnsafeBytes { sqlite3_bind_blob(insert, 2, $0.baseAddress, Int32($0.count), shopfloor_sqlite_transient()) }
        sqlite3_bind_int(insert, 3, message.qos.rawValue)
        sqlite3_bind_double(insert, 4, Date().timeIntervalSince1970)
        let rc = sqlite3_step(insert)
        guard rc == SQLITE_DONE else { throw InsertFailed(code: rc) }
    }

    deinit {
        sqlite3_finalize(insert)
        sqlite3_close(database)
    }
}

do {
    var configuration = MQTTConfiguration(host: host, port: port, clientID: clientID)
    configuration.makePersistent(sessionExpiry: 3600)
    configuration.receiveMaximum = 1000
    if phase == "prime" {
        let client = try MQTTClient(configuration: configuration, logger: logger)
        try await client.connect()
        try await client.subscribe(to: topic, qos: qos)
        await client.disconnect()
        exit(0)
    }
    let meter = Meter(target: count)
    let client: MQTTClient
    switch mode {
    case "stream":
        client = try MQTTClient(configuration: configuration, logger: logger)
        Task {
            for await _ in client.messages { meter.tick() }
        }
    case "callback":
        client = try MQTTClient(configuration: configuration, logger: logger) { _ in meter.tick() }
    case "durable":
        unlink(path)
        unlink(path + ".ack")
        let journal = try MessageJournal(path: path)
        client = try MQTTClient(configuration: configuration, logger: logger) { message in
            try journal.append(message)
            meter.tick()
        }
    case "sqlite":
        let sink = try SQLiteSink(path: path)
        client = try MQTTClient(configuration: configuration, logger: logger) { message in
            try sink.append(message)
            meter.tick()
        }
    default:
        FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
        exit(2)
    }
    let events = client.connectionEvents()
    try await client.connect()
    for await event in events {
        if case .connected(let sessionPresent) = event {
            guard sessionPresent else {
                FileHandle.standardError.write(Data("session was not resumed; run prime first\n".utf8))
                exit(1)
            }
            break
        }
    }
    await meter.wait()
    print(meter.report)
    await client.disconnect()
} catch {
    FileHandle.standardError.write(Data("MQTTThroughput: \(error)\n".utf8))
    exit(1)
}
