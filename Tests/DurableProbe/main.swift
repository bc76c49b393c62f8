// DurableProbe: a durable MQTT consumer for the SIGKILL test in MQTTTests.
// Connects with a fixed client id and a persistent session, appends every message to a MessageJournal
// inside on_message (durable mode), writes `<journal>.ready` once subscribed, and runs until killed.
// Usage: DurableProbe <host> <port> <topic filter> <client id> <journal path>
import Foundation
import Logging
import MQTT

let arguments = CommandLine.arguments
guard arguments.count == 6, let port = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: DurableProbe <host> <port> <filter> <client id> <journal path>\n".utf8))
    exit(2)
}
let (host, filter, clientID, journalPath) = (arguments[1], arguments[3], arguments[4], arguments[5])
var logger = Logger(label: "durable-probe")
logger.logLevel = .warning

do {
    let journal = try MessageJournal(path: journalPath)
    var configuration = MQTTConfiguration(host: host, port: port, clientID: clientID)
    configuration.makePersistent(sessionExpiry: 300)
    configuration.reconnect = .init(minimumDelay: .milliseconds(20), maximumDelay: .milliseconds(500))
    let client = try MQTTClient(configuration: configuration, logger: logger) { message in
        try journal.append(message)
    }
    try await client.connect()
    try await client.subscribe(to: filter, qos: .atLeastOnce)
    _ = FileManager.default.createFile(atPath: journalPath + ".ready", contents: Data())
    while true { try await Task.sleep(for: .seconds(3600)) }
} catch {
    FileHandle.standardError.write(Data("DurableProbe: \(error)\n".utf8))
    exit(1)
}
