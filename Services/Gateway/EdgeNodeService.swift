import Foundation
import Logging
import MQTT
import Metrics
import Modbus
import ServiceLifecycle
import ServiceRuntime
import Sparkplug
import Synchronization

/// The gateway at run time: the device pollers, the MQTT session of the Sparkplug edge node, write-back and
/// store-and-forward, all feeding one event loop that asks `EdgeNodeStateMachine` what to send and sends it
/// in order (the seq of a message is fixed when the machine creates it, so publishing stays on one task).
///
/// Graceful shutdown: polling stops, NDEATH goes out (DISCONNECT with reason "disconnect with will message",
/// the MQTT 5 form the Sparkplug 3.0 text prescribes), then the connection closes.
final class EdgeNodeService: Service, Sendable {
    /// Everything the event loop reacts to.
    enum Event: Sendable {
        case connected
        case disconnected
        case message(MQTTMessage)
        case poll(PollOutcome)
        case written(device: Int, metric: Int, value: MetricValue)
        case status
        case replay(Spool.Entry, CheckedContinuation<Bool, Never>)
        case stop
    }

    let config: GatewayConfig
    let client: MQTTClient
    let machine: SharedEdgeNodeState
    let pollers: [DevicePoller]
    let health: HealthChecks
    let logger: Logger
    let statusInterval: Duration
    /// Entries in the spool now (0 before `run()` opened it).
    var spoolDepth: Int { spool.withLock { $0?.depth ?? 0 } }
    private let spool = Mutex<Spool?>(nil)
    private let stats = Mutex(Stats())

    /// Counters the node reports about itself (NDATA) next to `/metrics`.
    struct Stats: Sendable {
        var polls: UInt64 = 0
        var pollErrors: UInt64 = 0
        var writesRejected: UInt64 = 0
        var spoolDropped: UInt64 = 0
        /// DATA payloads written to the spool since start (each becomes one historical DDATA).
        var spooled: UInt64 = 0
    }

    /// The counters so far (tests and NDATA read them).
    var counters: Stats { stats.withLock { $0 } }

    /// Builds the service; nothing connects until `run()`.
    init(config: GatewayConfig, broker: MQTTURL, clientID: String, health: HealthChecks, logger: Logger,
         statusInterval: Duration = .seconds(10)) throws {
        self.config = config
        self.health = health
        self.logger = logger
        self.statusInterval = statusInterval
        let machine = SharedEdgeNodeState(EdgeNodeStateMachine(devices: config.devices.map { device in
            .init(name: device.name, assetPath: device.assetPath, metrics: device.tags.map { tag in
                (tag.name, TagCodec.datatype(of: tag), tag.unit, tag.deadband)
            })
        }, primaryHost: config.primaryHostID))
        self.machine = machine
        let deathTopic = try SparkplugTopic(group: config.groupID, verb: .ndeath, edgeNode: config.edgeNodeID).description
        let willLogger = logger
        var mqtt = MQTTConfiguration(host: broker.host, port: broker.port, clientID: clientID,
                                     username: broker.username, password: broker.password,
                                     tls: broker.usesTLS ? .init() : nil,
                                     reconnect: .init(minimumDelay: .milliseconds(200), maximumDelay: .seconds(10)))
        // Sparkplug 3.0: every CONNECT carries an NDEATH Will with bdSeq (QoS 1, not retained). libmosquitto
        // would reuse the last Will on its own reconnects, so the client asks here before each attempt; the
        // machine offers the same bdSeq until a CONNACK accepts it (onConnectionAccepted), then the next.
        mqtt.willProvider = {
            let payload = machine.withLock { $0.nextWill() }
            do {
                return MQTTWill(topic: deathTopic, payload: try payload.encode(), qos: .atLeastOnce, retain: false)
            } catch {
                willLogger.error("cannot encode the NDEATH will", metadata: ["error": "\(error)"])
                return nil
            }
        }
        mqtt.onConnectionAccepted = { machine.withLock { $0.connectionAccepted() } }
        client = try MQTTClient(configuration: mqtt, logger: logger)
        pollers = config.devices.enumerated().map { index, device in
            DevicePoller(index: index, device: device, pollGroups: config.pollGroups, maxGap: config.maxGap,
                         logger: logger)
        }
    }

    private func topic(_ verb: SparkplugTopic.Verb, device: String? = nil) throws -> String {
        try SparkplugTopic(group: config.groupID, verb: verb, edgeNode: config.edgeNodeID, device: device).description
    }

    /// Milliseconds since the epoch, UTC (Sparkplug timestamps).
    static func now() -> UInt64 { UInt64((Date().timeIntervalSince1970 * 1000).rounded()) }

    func run() async throws {
        let spool = try await Spool.open(path: config.spool.path, maxMessages: config.spool.maxMessages, logger: logger)
        self.spool.withLock { $0 = spool }
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        health.set("sparkplug", healthy: false, detail: "connecting")
        for device in config.devices { health.set("device:\(device.name)", healthy: false, detail: "not polled yet", critical: false) }

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [client] in
                    for await event in client.connectionEvents() {
                        switch event {
                        case .connected: sink.yield(.connected)
                        case .disconnected: sink.yield(.disconnected)
                        }
                    }
                }
                group.addTask { [client] in
                    for await message in client.messages { sink.yield(.message(message)) }
                }
                for poller in pollers {
                    group.addTask { await poller.run { sink.yield(.poll($0)) } }
                }
                group.addTask { [statusInterval] in
                    while (try? await Task.sleep(for: statusInterval)) != nil { sink.yield(.status) }
                }
                group.addTask { await self.replayLoop(spool: spool, sink: sink) }
                client.start()
                await eventLoop(events, sink: sink, spool: spool, group: &group)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            sink.yield(.stop)
        }
        await client.disconnect()
        await spool.close()
    }

    /// The single consumer of events: state machine in, MQTT messages out, in order.
    private func eventLoop(_ events: AsyncStream<Event>, sink: AsyncStream<Event>.Continuation, spool: Spool,
                           group: inout TaskGroup<Void>) async {
        for await event in events {
            let now = Self.now()
            switch event {
            case .connected:
                // Sparkplug 3.0: NCMD and DCMD are subscribed (QoS 1) before NBIRTH is published.
                do {
                    try await client.subscribe(to: topic(.ncmd), qos: .atLeastOnce)
                    if config.devices.contains(where: { $0.tags.contains(where: \.writable) }) {
                        // A wildcard is no valid device id, so this filter is the one topic not built by SparkplugTopic.
                        let filter = "\(SparkplugTopic.namespace)/\(config.groupID)/DCMD/\(config.edgeNodeID)/+"
                        try await client.subscribe(to: filter, qos: .atLeastOnce)
                    }
                    if let host = config.primaryHostID {
                        // Its retained STATE arrives as a message and decides when the NBIRTH goes out.
                        try await client.subscribe(to: SparkplugTopic(stateOf: host).description, qos: .atLeastOnce)
                    }
                } catch {
                    logger.error("cannot subscribe to commands", metadata: ["error": "\(error)"])
                }
                let actions = machine.withLock { $0.connected(now: now) }
                await perform(actions, spool: spool)
                reportSession()
            case .disconnected:
                machine.withLock { $0.disconnected() }
                health.set("sparkplug", healthy: false, detail: "broker unreachable; spooling")
            case .message(let message) where config.primaryHostID.map({ message.topic == "\(SparkplugTopic.namespace)/STATE/\($0)" }) == true:
                let state: HostState
                do {
                    state = try HostState(decoding: message.payload)
                } catch {
                    logger.warning("undecodable primary host STATE", metadata: ["error": "\(error)"])
                    continue
                }
                let wasOnline = machine.withLock { $0.isOnline }
                await perform(machine.withLock { $0.primaryHostState(online: state.online, timestamp: state.timestamp, now: now) },
                              spool: spool)
                if machine.withLock({ $0.isOnline }) != wasOnline || !state.online { reportSession() }
            case .message(let message):
                await handle(message, spool: spool, sink: sink, group: &group)
            case .poll(.samples(let device, let values, let refused)):
                stats.withLock { $0.polls += 1 }
                health.set("device:\(config.devices[device].name)", healthy: true,
                           detail: refused.isEmpty ? "answering" : "answering; \(refused.count) tags refused", critical: false)
                await perform(machine.withLock { $0.samples(device: device, values, failed: refused, now: now) },
                              spool: spool)
            case .poll(.failed(let device, let error)):
                stats.withLock { $0.pollErrors += 1 }
                health.set("device:\(config.devices[device].name)", healthy: false, detail: "\(error)", critical: false)
                await perform(machine.withLock { $0.deviceFailed(device: device, now: now) }, spool: spool)
            case .written(let device, let metric, let value):
                await perform(machine.withLock { $0.written(device: device, metric: metric, value: value, now: now) },
                              spool: spool)
            case .status:
                let snapshot = stats.withLock { $0 }
                let online = machine.withLock { $0.devicesOnline }
                Metrics.Gauge(label: "gateway_spool_depth").record(spool.depth)
                Metrics.Gauge(label: "gateway_devices_online").record(online)
                let values: [MetricValue] = [.uint32(UInt32(online)), .uint64(snapshot.polls),
                                             .uint64(snapshot.pollErrors), .uint64(UInt64(spool.depth)),
                                             .uint64(snapshot.writesRejected)]
                await perform(machine.withLock { $0.nodeStatus(values, now: now) }, spool: spool)
            case .replay(let entry, let done):
                done.resume(returning: await replay(entry, spool: spool, now: now))
            case .stop:
                await stop()
                return
            }
        }
    }

    /// Health and log line for the session: born, or connected and waiting for the primary host.
    private func reportSession() {
        let (online, connected, bdSeq) = machine.withLock { ($0.isOnline, $0.isConnected, $0.bdSeq ?? 0) }
        if online {
            health.set("sparkplug", healthy: true, detail: "online, bdSeq \(bdSeq)")
            logger.info("edge node online", metadata: ["bdSeq": "\(bdSeq)"])
        } else if connected, let host = config.primaryHostID {
            // Not a fault of the gateway: it keeps polling and spooling until the host is back.
            health.set("sparkplug", healthy: true, detail: "connected; waiting for primary host \(host) (spooling)")
            logger.info("waiting for the primary host", metadata: ["host": "\(host)", "bdSeq": "\(bdSeq)"])
        }
    }

    /// Graceful stop: the NDEATH first, then the connection goes.
    private func stop() async {
        let online = machine.withLock { machine in
            defer { machine.disconnected() }
            return machine.isConnected
        }
        if online {
            // MQTT 5 + Sparkplug 3.0: DISCONNECT with reason 0x04 makes the broker publish the NDEATH Will,
            // which carries this session's bdSeq.
            await client.disconnect(sendWill: true)
            logger.info("edge node offline (NDEATH sent)")
        } else {
            await client.disconnect()
        }
        health.set("sparkplug", healthy: false, detail: "stopped")
    }

    /// Publishes the actions in order; DATA that cannot be published is spooled.
    private func perform(_ actions: [EdgeNodeStateMachine.Action], spool: Spool) async {
        for action in actions {
            do {
                switch action {
                case .publishNBirth(let payload):
                    try await publish(topic(.nbirth), payload)
                case .publishDBirth(let device, let payload):
                    try await publish(topic(.dbirth, device: device), payload)
                case .publishNData(let payload):
                    try await publish(topic(.ndata), payload)
                case .publishDData(let device, let payload):
                    do {
                        try await publish(topic(.ddata, device: device), payload)
                    } catch {
                        // The session broke before the machine heard of it: keep the data.
                        var kept = payload
                        kept.seq = nil
                        for index in kept.metrics.indices { kept.metrics[index].isHistorical = true }
                        try await spoolData(device: device, kept, spool: spool)
                    }
                case .publishDDeath(let device, let payload):
                    try await publish(topic(.ddeath, device: device), payload)
                case .spool(let device, let payload):
                    try await spoolData(device: device, payload, spool: spool)
                case .reconnectForPrimaryHost:
                    // Sparkplug 3.0: on the primary host's offline STATE, NDEATH (the Will, by DISCONNECT reason
                    // 0x04) and disconnect; the new connection has a new bdSeq and waits for the host again.
                    logger.warning("primary host offline: NDEATH, reconnecting", metadata: ["host": "\(config.primaryHostID ?? "")"])
                    await client.disconnect(sendWill: true)
                    machine.withLock { $0.disconnected() }
                    health.set("sparkplug", healthy: true, detail: "primary host offline; reconnecting (spooling)")
                    client.start()
                }
            } catch {
                logger.warning("cannot send", metadata: ["action": "\(action)", "error": "\(error)"])
            }
        }
    }

    private func publish(_ topic: String, _ payload: Payload) async throws {
        // Sparkplug 3.0: BIRTH, DATA and DEATH of devices are QoS 0 and never retained.
        try await client.publish(topic: topic, payload: try payload.encode(), qos: .atMostOnce, retain: false)
    }

    private func spoolData(device: String, _ payload: Payload, spool: Spool) async throws {
        let dropped = try await spool.append(device: device, payload: try payload.encode())
        stats.withLock { $0.spooled += 1 }
        Metrics.Gauge(label: "gateway_spool_depth").record(spool.depth)
        if dropped > 0 {
            stats.withLock { $0.spoolDropped += UInt64(dropped) }
            Metrics.Counter(label: "gateway_spool_dropped_total").increment(by: dropped)
            logger.warning("spool full: dropped the oldest data",
                           metadata: ["dropped": "\(dropped)", "maxMessages": "\(spool.maxMessages)"])
        }
    }

    /// Sends one spooled entry again (historical) and removes it; false when it must wait (offline, or its
    /// device is not born).
    private func replay(_ entry: Spool.Entry, spool: Spool, now: UInt64) async -> Bool {
        let payload: Payload
        do {
            payload = try Payload(decoding: entry.payload)
        } catch {
            logger.error("dropping an unreadable spool entry", metadata: ["id": "\(entry.id)", "error": "\(error)"])
            try? await spool.remove(entry.id)
            return true
        }
        guard case .publishDData(let device, let replayed)? = machine.withLock({ $0.replay(device: entry.device, payload, now: now) })
        else { return false }
        do {
            try await publish(topic(.ddata, device: device), replayed)
            // Removed right after the publish: a replayed entry is never sent again.
            try await spool.remove(entry.id)
            Metrics.Counter(label: "gateway_spool_replayed_total").increment()
            return true
        } catch {
            return false
        }
    }

    /// Drains the spool at `replayRate` messages per second whenever the node is online.
    private func replayLoop(spool: Spool, sink: AsyncStream<Event>.Continuation) async {
        let pause = Duration.milliseconds(Int64((1000 / config.spool.replayRate).rounded(.up)))
        while !Task.isCancelled {
            guard spool.depth > 0, machine.withLock({ $0.isOnline }),
                  let batch = try? await spool.oldest(100), !batch.isEmpty
            else {
                if (try? await Task.sleep(for: .milliseconds(100))) == nil { return }
                continue
            }
            for entry in batch {
                let sent = await withCheckedContinuation { continuation in
                    sink.yield(.replay(entry, continuation))
                }
                // Strict order: an entry that cannot go yet blocks the ones behind it.
                if !sent {
                    if (try? await Task.sleep(for: .milliseconds(200))) == nil { return }
                    break
                }
                if (try? await Task.sleep(for: pause)) == nil { return }
            }
        }
    }

    /// NCMD (rebirth) and DCMD (writes).
    private func handle(_ message: MQTTMessage, spool: Spool, sink: AsyncStream<Event>.Continuation,
                        group: inout TaskGroup<Void>) async {
        guard let topic = SparkplugTopic(parsing: message.topic),
              case .edge(_, let verb, _, let device) = topic.kind
        else { return }
        let payload: Payload
        do {
            payload = try Payload(decoding: message.payload)
        } catch {
            logger.warning("undecodable command", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
            return
        }
        switch verb {
        case .ncmd:
            let rebirth = payload.metrics.contains { metric in
                metric.name == "Node Control/Rebirth" && (metric.value == .boolean(true) || metric.value == .untyped(.boolean(true)))
            }
            if rebirth {
                logger.info("rebirth requested")
                await perform(machine.withLock { $0.rebirth(now: Self.now()) }, spool: spool)
            }
        case .dcmd:
            guard let device else { return }
            for metric in payload.metrics { write(metric, device: device, sink: sink, group: &group) }
        default:
            return
        }
    }

    /// Validates and starts one DCMD write.
    private func write(_ metric: Metric, device name: String, sink: AsyncStream<Event>.Continuation,
                       group: inout TaskGroup<Void>) {
        func reject(_ reason: String, _ why: String) {
            stats.withLock { $0.writesRejected += 1 }
            Metrics.Counter(label: "gateway_writes_rejected_total", dimensions: [("reason", reason)]).increment()
            logger.warning("write rejected", metadata: [
                "device": "\(name)", "metric": "\(metric.name ?? metric.alias.map { "alias \($0)" } ?? "?")",
                "reason": "\(why)",
            ])
        }
        guard let (device, position) = machine.withLock({ $0.resolve(device: name, metric: metric) }) else {
            return reject("unknown_metric", "no such device or metric in the DBIRTH")
        }
        let tag = config.devices[device].tags[position]
        guard var value = metric.value else { return reject("wrong_type", "the command carries no value") }
        if case .untyped = value {
            do { value = try value.resolved(as: TagCodec.datatype(of: tag)) } catch {
                return reject("wrong_type", "\(error)")
            }
        }
        let request: ModbusRequest, confirmed: MetricValue
        do {
            (request, confirmed) = try TagCodec.writeRequest(for: tag, value: value)
        } catch {
            return reject(error.reason, error.description)
        }
        let poller = pollers[device]
        let unit = tag.address.unit ?? config.devices[device].unitID
        group.addTask { [logger] in
            do throws(ModbusError) {
                _ = try await poller.client.send(request, unit: unit)
                Metrics.Counter(label: "gateway_writes_total", dimensions: [("device", name)]).increment()
                logger.info("write done", metadata: ["device": "\(name)", "tag": "\(tag.name)", "value": "\(confirmed)"])
                // Confirmation: the loop reports the written value as DDATA.
                sink.yield(.written(device: device, metric: position, value: confirmed))
            } catch {
                self.stats.withLock { $0.writesRejected += 1 }
                Metrics.Counter(label: "gateway_writes_rejected_total", dimensions: [("reason", error.code.rawValue)])
                    .increment()
                logger.warning("write failed on the device", metadata: [
                    "device": "\(name)", "tag": "\(tag.name)", "error": "\(error)",
                ])
            }
        }
    }
}
