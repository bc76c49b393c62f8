import Foundation

/// A real mosquitto running the configuration `scripts/broker-config.sh` writes (accounts, passwords, ACL),
/// on a free port in a private folder: the broker `make run` and the containers start.
final class SecuredBroker: Sendable {
    let port: Int
    /// The TLS listener's port, when started with `tls: true`; certificates from scripts/certs.sh in `folder/certs`.
    let tlsPort: Int?
    let folder: URL
    /// Password of each account, from the generated credentials.env.
    let passwords: [String: String]
    private let broker: ChildProcess

    private init(port: Int, tlsPort: Int?, folder: URL, passwords: [String: String], broker: ChildProcess) {
        self.port = port
        self.tlsPort = tlsPort
        self.folder = folder
        self.passwords = passwords
        self.broker = broker
    }

    /// Generates the configuration and starts mosquitto with it; returns once it accepts connections.
    static func start(tls: Bool = false) async throws -> SecuredBroker {
        let folder = try Repository.temporaryFolder("broker")
        let port = try LocalPort.free()
        var environment = ["MQTT_PORT": "\(port)"]
        var tlsPort: Int?
        if tls {
            let certificates = folder.appendingPathComponent("certs").path
            let made = try await ChildProcess.run([Repository.path("scripts/certs.sh"), certificates])
            guard made.status == 0 else { throw DeployTestFailure("certs.sh failed (\(made.status)): \(made.error)") }
            let chosen = try LocalPort.free()
            tlsPort = chosen
            environment["MQTTS_PORT"] = "\(chosen)"
            environment["TLS_DIR"] = certificates
        }
        let generate = try await ChildProcess.run(
            [Repository.path("scripts/broker-config.sh"), folder.path], environment: environment, inherit: false)
        guard generate.status == 0 else {
            throw DeployTestFailure("broker-config.sh failed (\(generate.status)): \(generate.error)")
        }
        let passwords = try readCredentials(folder.appendingPathComponent("credentials.env"))
        let broker = try ChildProcess(["mosquitto", "-c", folder.appendingPathComponent("mosquitto.conf").path])
        let deadline = ContinuousClock.now + .seconds(10)
        while !LocalPort.isListening(port) || !(tlsPort.map(LocalPort.isListening) ?? true) {
            guard broker.process.isRunning, ContinuousClock.now < deadline else {
                await broker.stop()
                throw DeployTestFailure("mosquitto did not listen on \(port): \(broker.errorOutput)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return SecuredBroker(port: port, tlsPort: tlsPort, folder: folder, passwords: passwords, broker: broker)
    }

    /// `MQTT_PASSWORD_RAG_INDEX=…` lines → ["rag-index": …].
    private static func readCredentials(_ url: URL) throws -> [String: String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var passwords: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("MQTT_PASSWORD_") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let account = parts[0].dropFirst("MQTT_PASSWORD_".count).lowercased().replacingOccurrences(of: "_", with: "-")
            passwords[account] = parts[1]
        }
        return passwords
    }

    /// Stops mosquitto and removes its folder.
    func stop() async {
        await broker.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    private func login(_ account: String, password: String? = nil) -> [String] {
        ["-h", "127.0.0.1", "-p", "\(port)", "-u", account, "-P", password ?? passwords[account] ?? "", "-V", "mqttv5"]
    }

    /// Publishes as `account` on the TLS listener to host name `host`, trusting `caFile` (none: no TLS at all).
    func publishOverTLS(as account: String, host: String = "localhost", caFile: String?, topic: String,
                        payload: String) async throws -> (status: Int32, error: String) {
        var arguments = ["mosquitto_pub", "-h", host, "-p", "\(tlsPort ?? 0)", "-u", account, "-P", passwords[account] ?? "",
                         "-V", "mqttv5", "-q", "1", "-t", topic, "-m", payload]
        if let caFile { arguments += ["--cafile", caFile] }
        let result = try await ChildProcess.run(arguments, timeout: .seconds(10))
        return (result.status, result.error)
    }

    /// Publishes one message as `account` with QoS 1, so the broker has handled it (or refused it) when this
    /// returns. The result is mosquitto_pub's (status, stderr).
    @discardableResult
    func publish(as account: String, password: String? = nil, topic: String,
                 payload: String) async throws -> (status: Int32, error: String) {
        let result = try await ChildProcess.run(
            ["mosquitto_pub"] + login(account, password: password) + ["-q", "1", "-t", topic, "-m", payload],
            timeout: .seconds(10))
        return (result.status, result.error)
    }

    /// Starts `mosquitto_sub` as `account` on `filters`, printing `topic payload` lines, and waits until its
    /// subscription is live (a probe published by `admin` under `probeTopic` arrives).
    func subscribe(as account: String, to filters: [String], probeTopic: String) async throws -> ChildProcess {
        var arguments = ["mosquitto_sub"] + login(account) + ["-q", "1", "-v"]
        for filter in filters { arguments += ["-t", filter] }
        let subscriber = try ChildProcess(arguments)
        let probe = "probe-\(UUID().uuidString)"
        let deadline = ContinuousClock.now + .seconds(10)
        while !subscriber.output.contains(probe) {
            guard subscriber.process.isRunning, ContinuousClock.now < deadline else {
                await subscriber.stop()
                throw DeployTestFailure("subscriber \(account) on \(filters) not ready: \(subscriber.errorOutput)")
            }
            try await publish(as: "admin", topic: probeTopic, payload: probe)
            try await Task.sleep(for: .milliseconds(100))
        }
        return subscriber
    }

    /// Publishes a marker as `admin` and waits until `subscriber` received it. Messages published before the
    /// marker (and acknowledged) have been delivered by then, so their absence afterwards is meaningful.
    func drain(_ subscriber: ChildProcess, markerTopic: String) async throws {
        let marker = "marker-\(UUID().uuidString)"
        try await publish(as: "admin", topic: markerTopic, payload: marker)
        let deadline = ContinuousClock.now + .seconds(10)
        while !subscriber.output.contains(marker) {
            guard ContinuousClock.now < deadline else {
                throw DeployTestFailure("marker on \(markerTopic) never reached the subscriber")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
