import Dispatch
import EventSchema
import Foundation
import Logging
import MQTT
import ServiceLifecycle
import ServiceRuntime
import Sparkplug
import Synchronization

/// The Sparkplug 3.0 host application as one service.
///
/// Two MQTT connections: the **ingest** client is durable (fixed client id, persistent session) and appends
/// every Sparkplug message to the `MessageJournal` inside `on_message`, before the PUBACK; the **host**
/// client has a clean session (Sparkplug's rule for hosts), carries the STATE will, publishes STATE, NCMD
/// rebirth requests and UNS traffic, and answers history requests. A loader reads the journal in batches,
/// runs each message through the `HostStateMachine`, writes the batch to the store in one transaction,
/// acknowledges the journal, then publishes UNS values and events.
///
/// Graceful shutdown: the ingest client disconnects, the loader drains the journal, the primary publishes
/// STATE offline, the host client disconnects.
public final class StreamHost: Service {
    public let config: StreamConfig
    public let metrics: StreamMetrics
    let runtime: RuntimeConfig
    let health: HealthChecks
    let logger: Logger
    private let providedStore: (any TimeSeriesStore)?
    private let stopping = Atomic<Bool>(false)
    /// How long a graceful shutdown waits for the broker to acknowledge what the loader still publishes.
    private let shutdownGrace: Duration = .seconds(10)
    /// The T of the current connection's STATE will; the birth repeats it (spec item 17).
    private let stateTimestamp = StateTimestamp()
    /// Journal reads and compaction are blocking file I/O: they run here, off the cooperative pool.
    private let io = DispatchQueue(label: "shopfloor.stream.journal")

    /// `store` replaces the one `config.store` names (tests pass one they can inspect); the host does not
    /// close a store it was given.
    public init(config: StreamConfig, runtime: RuntimeConfig, health: HealthChecks, logger: Logger,
                store: (any TimeSeriesStore)? = nil) {
        self.config = config
        self.runtime = runtime
        self.health = health
        self.logger = logger
        self.providedStore = store
        self.metrics = StreamMetrics(instance: runtime.instance)
    }

    var isPrimary: Bool { config.role == .primary }

    var stateTopic: String { "\(SparkplugTopic.namespace)/STATE/\(config.hostID)" }

    /// Every instance, primary included: DATA through the shared subscription group (the broker gives each
    /// DATA message to one member), every BIRTH/DEATH unshared, so each instance resolves every alias. The
    /// primary's seq view comes from `sequenceFilters` instead.
    var ingestFilters: [String] {
        groupRoots.flatMap { root -> [String] in
            ["$share/stream/\(root)/NDATA/#", "$share/stream/\(root)/DDATA/#",
             "\(root)/NBIRTH/#", "\(root)/NDEATH/#", "\(root)/DBIRTH/#", "\(root)/DDEATH/#"]
        }
    }

    /// The primary's unshared, non-durable subscription for seq tracking and stray topics: everything (or
    /// its groups). Nothing read here is stored but dead letters.
    var sequenceFilters: [String] {
        config.groups.isEmpty ? ["\(SparkplugTopic.namespace)/#"] : groupRoots.map { "\($0)/#" }
    }

    private var groupRoots: [String] {
        config.groups.isEmpty ? ["\(SparkplugTopic.namespace)/+"] : config.groups.map { "\(SparkplugTopic.namespace)/\($0)" }
    }

    public func run() async throws {
        let store: any TimeSeriesStore
        if let providedStore { store = providedStore } else { store = try await TimeSeriesStores.open(config.store) }
        try await store.prepare(logger: logger)
        let journal = try MessageJournal(path: config.journalPath)
        if let reason = journal.recovery.reason {
            logger.warning("journal recovered", metadata: ["reason": "\(reason)",
                                                            "truncatedBytes": "\(journal.recovery.truncatedBytes)"])
        }

        var ingestConfiguration = mqttConfiguration(clientID: "stream-\(config.hostID)-\(runtime.instance)")
        ingestConfiguration.makePersistent(sessionExpiry: config.sessionExpiry)
        let ingest = try MQTTClient(configuration: ingestConfiguration, logger: logger) { message in
            // Durable before acknowledged: the PUBACK leaves only after this returns.
            try journal.append(message)
        }

        var hostConfiguration = mqttConfiguration(clientID: "stream-host-\(config.hostID)-\(runtime.instance)")
        if isPrimary {
            let topic = stateTopic
            let stamp = stateTimestamp
            // Spec item 17: the will's T is the CONNECT time; a new one for every (re)connect.
            hostConfiguration.willProvider = {
                let now = Date().milliseconds
                stamp.set(now)
                return MQTTWill(topic: topic, payload: HostState(online: false, timestamp: now).encode(),
                                qos: .atLeastOnce, retain: true)
            }
        }
        let host = try MQTTClient(configuration: hostConfiguration, logger: logger)
        // Clean session: after a restart seq tracking starts over anyway (the next seq is accepted as is).
        let sequence = isPrimary
            ? try MQTTClient(configuration: mqttConfiguration(clientID: "stream-seq-\(config.hostID)-\(runtime.instance)"),
                             logger: logger)
            : nil

        // Spec item 18: subscribe to the Sparkplug topics (and our own STATE) before publishing STATE. Both
        // clients keep retrying in the background, so a broker that starts after us is no error; subscriptions
        // made while disconnected are sent on connect.
        for filter in ingestFilters {
            try await ingest.subscribe(to: filter, qos: .atLeastOnce)
        }
        ingest.start()
        await Self.waitUntilConnectedOrShutdown(ingest)
        if let sequence {
            for filter in sequenceFilters {
                try await sequence.subscribe(to: filter, qos: .atLeastOnce)
            }
            sequence.start()
            await Self.waitUntilConnectedOrShutdown(sequence)
        }
        if isPrimary { try await host.subscribe(to: stateTopic, qos: .atLeastOnce) }
        host.start()
        await Self.waitUntilConnectedOrShutdown(host)
        if Task.isShuttingDownGracefully {
            // SIGTERM while the broker was still refusing us: nothing was consumed, nothing to flush.
            logger.info("stopped before the broker accepted a connection")
            await ingest.disconnect()
            await sequence?.disconnect()
            await host.disconnect()
            if providedStore == nil { await store.close() }
            return
        }
        health.set("stream", healthy: true, detail: "role=\(config.role.rawValue)")
        logger.info("stream host running", metadata: ["config": "\(config)"])

        var outcome: Result<Void, any Error> = .success(())
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.load(journal: journal, store: store, ingest: ingest, host: host) }
                    if self.isPrimary {
                        group.addTask { await self.keepStateOnline(host) }
                    }
                    if let sequence {
                        group.addTask { await self.observeSequence(sequence, host: host, store: store) }
                    }
                    group.addTask { try await self.serveHistory(host, store: store) }
                    if self.isPrimary {
                        group.addTask { await self.maintain(store) }
                    }
                    // A broker that stops acknowledging during the shutdown would keep the loader's UNS
                    // publishes (and the STATE birth) waiting for PUBACKs: after `shutdownGrace`, DISCONNECT
                    // with the will ends those waits. Cancelled as soon as the group ends.
                    group.addTask {
                        do {
                            try await gracefulShutdown()
                            try await Task.sleep(for: self.shutdownGrace)
                        } catch { return }
                        self.logger.warning("broker not acknowledging during shutdown; disconnecting",
                                            metadata: ["waited": "\(self.shutdownGrace)"])
                        await host.disconnect(sendWill: true)
                    }
                    // The loader returns after a graceful shutdown drained the journal; the rest follow it once
                    // the host client is gone (its disconnect ends every publish still waiting).
                    var failure: (any Error)?
                    do { try await group.next() } catch { failure = error }
                    await self.sayGoodbye(host)
                    group.cancelAll()
                    if let failure { throw failure }
                }
            } onGracefulShutdown: {
                self.stopping.store(true, ordering: .releasing)
            }
        } catch {
            outcome = .failure(error)
        }
        await ingest.disconnect()
        await sequence?.disconnect()
        await host.disconnect()
        if providedStore == nil { await store.close() }
        health.set("stream", healthy: false, detail: "stopped")
        try outcome.get()
    }

    /// Spec item 20: an intentional stop publishes STATE offline (timestamp now) before DISCONNECT. A broker
    /// going away at this moment never acknowledges it: after 2 s DISCONNECT with the will (STATE offline
    /// too), which also ends the publish still waiting for its PUBACK.
    private func sayGoodbye(_ host: MQTTClient) async {
        guard isPrimary, host.isConnected else {
            await host.disconnect()
            return
        }
        let offline = HostState(online: false, timestamp: Date().milliseconds)
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                (try? await host.publish(topic: self.stateTopic, payload: offline.encode(), qos: .atLeastOnce,
                                         retain: true)) != nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return false
            }
            if await group.next() != true {
                self.logger.warning("STATE offline not acknowledged; leaving it to the will")
                await host.disconnect(sendWill: true)
            }
            group.cancelAll()
        }
        await host.disconnect()
    }

    /// Returns once `client` reports a connection, or at a graceful shutdown (SIGTERM while the broker is down
    /// must still stop the service).
    private static func waitUntilConnectedOrShutdown(_ client: MQTTClient) async {
        await cancelWhenGracefulShutdown { await waitUntilConnected(client) }
    }

    /// Returns once `client` reports a connection (or the task is cancelled).
    private static func waitUntilConnected(_ client: MQTTClient) async {
        for await event in client.connectionEvents() {
            if case .connected = event { return }
        }
    }

    private func mqttConfiguration(clientID: String) -> MQTTConfiguration {
        MQTTConfiguration(host: runtime.broker.host, port: runtime.broker.port, clientID: clientID,
                          username: runtime.broker.username, password: runtime.broker.password,
                          tls: runtime.broker.usesTLS ? .init() : nil)
    }

    // MARK: STATE

    private func publishBirth(_ host: MQTTClient) async {
        let timestamp = stateTimestamp.value
        do {
            try await host.publish(topic: stateTopic, payload: HostState(online: true, timestamp: timestamp).encode(),
                                   qos: .atLeastOnce, retain: true)
        } catch {
            logger.warning("STATE birth not published", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes the STATE birth on every connect and heals it (spec item 19): an `online:false` on our own
    /// STATE topic while running is answered with the birth again, same timestamp.
    private func keepStateOnline(_ host: MQTTClient) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in host.connectionEvents() {
                    if case .connected = event { await self.publishBirth(host) }
                }
            }
            group.addTask {
                for await message in host.messages where message.topic == self.stateTopic {
                    guard let state = try? HostState(decoding: message.payload), !state.online,
                          !self.stopping.load(ordering: .acquiring) else { continue }
                    self.logger.notice("own STATE seen offline; republishing online")
                    await self.publishBirth(host)
                }
            }
        }
    }

    // MARK: Seq (primary)

    /// Tracks every edge node's seq from the unshared subscription (spec item 21) and requests rebirths for
    /// gaps not filled within the reorder timeout; ticks between messages so a gap expires on a quiet node.
    /// Topics under `spBv1.0/` that are not Sparkplug reach only this subscription: they become dead letters.
    private func observeSequence(_ client: MQTTClient, host: MQTTClient, store: any TimeSeriesStore) async {
        let observer = SharedSequenceObserver(SequenceObserver(reorderTimeout: config.reorderTimeoutMS,
                                                               rebirthInterval: config.rebirthIntervalMS))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    let actions = observer.state.withLock { $0.tick(now: Date().milliseconds) }
                    await self.requestRebirths(actions, host: host)
                    try? await Task.sleep(for: .milliseconds(max(10, min(100, Int(self.config.reorderTimeoutMS) / 4))))
                }
            }
            group.addTask {
                for await message in client.messages {
                    let now = Date().milliseconds
                    guard SparkplugTopic(parsing: message.topic) != nil else {
                        await self.storeStray(message, store: store, now: now)
                        continue
                    }
                    let actions = observer.state.withLock { $0.observe(topic: message.topic, payload: message.payload, now: now) }
                    for case .sequenceGap(let node, let expected, let received) in actions {
                        self.metrics.recordGap()
                        self.logger.notice("seq gap", metadata: ["node": "\(node)", "expected": "\(expected)",
                                                                 "received": "\(received)"])
                    }
                    await self.requestRebirths(actions, host: host)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// A message on a topic under `spBv1.0/` that is not Sparkplug B 3.0, kept as a dead letter. Not
    /// journaled (it came on the non-durable subscription): losing one in a crash loses no data.
    private func storeStray(_ message: MQTTMessage, store: any TimeSeriesStore, now: UInt64) async {
        var batch = StoreBatch()
        batch.deadLetters = [DeadLetter(topic: message.topic, reason: "not a Sparkplug B 3.0 topic",
                                        payload: message.payload, receivedAt: now)]
        do {
            _ = try await store.write(batch)
            metrics.recordBatch(messages: 0, samplesStored: 0, deadLetters: 1)
            logger.notice("dead letter", metadata: ["topic": "\(message.topic)", "reason": "not a Sparkplug topic"])
        } catch {
            logger.warning("dead letter not stored", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    // MARK: Retention

    /// At start and then hourly: store upkeep (partitions ahead, TimescaleDB policy), then raw samples older
    /// than `--retention` and rollups older than `--rollup-retention` go. Only the primary does it, so
    /// several instances never race on partitions (the store also takes an advisory lock).
    private func maintain(_ store: any TimeSeriesStore) async {
        while !Task.isCancelled {
            let now = Date().milliseconds
            do {
                try await store.maintain(now: now, sampleRetention: config.retentionMS, logger: logger)
                if config.retentionMS > 0 {
                    let deleted = try await store.deleteSamples(before: now - min(now, config.retentionMS))
                    if deleted > 0 { logger.info("retention: samples deleted", metadata: ["deleted": "\(deleted)"]) }
                }
                if config.rollupRetentionMS > 0 {
                    let deleted = try await store.deleteRollups(before: now - min(now, config.rollupRetentionMS))
                    if deleted > 0 { logger.info("retention: rollups deleted", metadata: ["deleted": "\(deleted)"]) }
                }
            } catch {
                logger.warning("store upkeep failed; retried in an hour", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(3_600))
        }
    }

    // MARK: History

    private func serveHistory(_ host: MQTTClient, store: any TimeSeriesStore) async throws {
        let topic = try UNSTopic.service("stream", verb: "history", prefix: runtime.unsPrefix)
        // Shared, so with several instances exactly one answers each request.
        let responder = MQTTResponder(client: host, requestFilter: "$share/stream/\(topic)")
        let history = HistoryService(store: store)
        try await responder.run { request in
            try await history.answer(request.payload)
        }
    }

    // MARK: Loader

    /// What one batch of journal records turns into.
    private struct Work {
        var batch = StoreBatch()
        var rebirths: [(EdgeNodeID, RebirthReason)] = []
        var stale: [(series: [SeriesKey], at: UInt64)] = []
    }

    /// A batch whose store write is running while the next batch is decoded.
    private struct InFlight {
        let write: Task<Int, any Error>
        let work: Work
        let end: MessageJournal.Position
        let messages: Int
        let oldest: Date
    }

    private func load(journal: MessageJournal, store: any TimeSeriesStore, ingest: MQTTClient,
                      host: MQTTClient) async throws {
        var machine = HostStateMachine(configuration: config.hostConfiguration)
        var events = PlantEvents(prefix: runtime.unsPrefix, source: "/shopfloor/stream/\(runtime.instance)",
                                 alarmRules: config.alarmRules)
        try await restore(from: store, into: &machine, &events)
        // Decoded up to here; the journal is acknowledged only up to what the store committed.
        var position = journal.acknowledgedPosition
        var ingestClosed = false
        var batches = 0
        var inFlight: InFlight?

        /// Waits for the running write; on success acknowledges the journal and publishes the batch's UNS
        /// messages. On failure nothing is acknowledged and decoding restarts from the acknowledged position:
        /// replaying records through the state machine is harmless (duplicate seqs are ignored, births
        /// redefine the same aliases, rules skip samples they have seen).
        func finish(_ flight: InFlight) async throws -> Bool {
            let inserted: Int
            do {
                inserted = try await flight.write.value
            } catch {
                health.set("store", healthy: false, detail: "\(error)")
                logger.error("store write failed; retrying", metadata: ["error": "\(error)"])
                return false
            }
            health.set("store", healthy: true)
            try await onIO { try journal.acknowledge(through: flight.end) }
            metrics.recordBatch(messages: flight.messages, samplesStored: inserted,
                                deadLetters: flight.work.batch.deadLetters.count)
            metrics.recordJournal(depthBytes: Int(journal.endPosition.offset - flight.end.offset),
                                  lagSeconds: Date().timeIntervalSince(flight.oldest))
            var outgoing = events.messages(for: flight.work.batch.samples)
            for (series, at) in flight.work.stale {
                outgoing += events.staleMessages(for: series, at: at)
            }
            await publish(outgoing, host: host)
            await requestRebirths(flight.work.rebirths.map { HostAction.requestRebirth($0.0, $0.1) }, host: host)
            batches += 1
            if batches % 200 == 0 {
                try await onIO { try journal.compact() }
            }
            return true
        }

        do {
            while true {
                if !ingestClosed && stopping.load(ordering: .acquiring) {
                    // Stop taking messages first; everything already journaled is still stored below.
                    await ingest.disconnect()
                    ingestClosed = true
                }
                let from = position
                let limit = config.batchSize
                let records = try await onIO { try journal.read(from: from, limit: limit) }
                guard let last = records.last else {
                    if let flight = inFlight {
                        inFlight = nil
                        if try await !finish(flight) {
                            position = journal.acknowledgedPosition
                            try await Task.sleep(for: .seconds(1))
                        }
                        continue
                    }
                    if ingestClosed { return }
                    await requestRebirths(machine.tick(now: Date().milliseconds), host: host)
                    try await Task.sleep(for: config.batchInterval)
                    continue
                }
                var work = Work()
                for record in records {
                    process(record, machine: &machine, events: &events, into: &work)
                }
                position = last.next
                // Reorder timers expire under load too, not only when the journal is idle.
                work.rebirths += machine.tick(now: Date().milliseconds).compactMap { action in
                    guard case .requestRebirth(let node, let reason) = action else { return nil }
                    return (node, reason)
                }
                if let flight = inFlight {
                    inFlight = nil
                    guard try await finish(flight) else {
                        position = journal.acknowledgedPosition
                        try await Task.sleep(for: .seconds(1))
                        continue
                    }
                }
                let batch = work.batch
                inFlight = InFlight(write: Task { try await store.write(batch) }, work: work, end: last.next,
                                    messages: records.count, oldest: records[0].receivedAt)
            }
        } catch {
            // Never leave a write running unobserved.
            _ = try? await inFlight?.write.value
            throw error
        }
    }

    /// Rebuilds alias tables and series metadata from the kept BIRTHs, so DATA journaled before a crash still
    /// resolves after the restart.
    private func restore(from store: any TimeSeriesStore, into machine: inout HostStateMachine,
                         _ events: inout PlantEvents) async throws {
        let births = try await store.births()
        var byNode: [EdgeNodeID: (node: Payload?, devices: [(String, Payload)])] = [:]
        for birth in births {
            guard let payload = try? Payload(decoding: birth.payload) else { continue }
            if let device = birth.device {
                byNode[birth.node, default: (nil, [])].devices.append((device, payload))
            } else {
                byNode[birth.node, default: (nil, [])].node = payload
            }
        }
        for (node, entry) in byNode {
            guard let birth = entry.node else { continue }
            events.define(machine.restore(node: node, birth: birth, deviceBirths: entry.devices))
        }
        if !byNode.isEmpty { logger.info("restored births", metadata: ["nodes": "\(byNode.count)"]) }
    }

    private func process(_ record: MessageJournal.Record, machine: inout HostStateMachine, events: inout PlantEvents,
                         into work: inout Work) {
        let message = record.message
        let now = record.receivedAt.milliseconds
        guard let topic = SparkplugTopic(parsing: message.topic) else {
            work.batch.deadLetters.append(DeadLetter(topic: message.topic, reason: "not a Sparkplug B 3.0 topic",
                                                     payload: message.payload, receivedAt: now))
            return
        }
        // STATE of hosts (ours included) is handled by the host client.
        guard case .edge(let group, let verb, let edgeNode, let device) = topic.kind else { return }
        // Commands go to the edge (ours included, since the primary subscribes to everything): not data.
        if verb == .ncmd || verb == .dcmd { return }
        let node = EdgeNodeID(group: group, edgeNode: edgeNode)
        let actions: [HostAction]
        do {
            let payload = try Payload(decoding: message.payload)
            actions = machine.receive(verb, node: node, device: device, payload: payload, now: now)
        } catch {
            actions = machine.receiveMalformed(node: node, reason: "undecodable payload: \(error)", now: now)
        }
        for action in actions {
            switch action {
            case .defineSeries(let infos):
                work.batch.series += infos
                events.define(infos)
            case .recordBirth(let node, let device):
                work.batch.births.append(StoredBirth(node: node, device: device, payload: message.payload,
                                                     receivedAt: now))
            case .store(let samples):
                work.batch.samples += samples
            case .markStale(_, _, let series, let at):
                work.batch.stale += series.map { ($0, at) }
                work.stale.append((series, at))
            case .requestRebirth(let node, let reason):
                work.rebirths.append((node, reason))
            case .sequenceGap(let node, let expected, let received):
                metrics.recordGap()
                logger.notice("seq gap", metadata: ["node": "\(node)", "expected": "\(expected)",
                                                    "received": "\(received)"])
            case .reject(let reason):
                work.batch.deadLetters.append(DeadLetter(topic: message.topic, reason: reason,
                                                         payload: message.payload, receivedAt: now))
                logger.notice("dead letter", metadata: ["topic": "\(message.topic)", "reason": "\(reason)"])
            case .ignore(let reason):
                logger.info("ignored", metadata: ["topic": "\(message.topic)", "reason": "\(reason)"])
            }
        }
    }

    /// Spec item 22: NCMD `Node Control/Rebirth` = true, by name, with a timestamp, no seq, QoS 0.
    private func requestRebirths(_ actions: [HostAction], host: MQTTClient) async {
        for case .requestRebirth(let node, let reason) in actions {
            do {
                let topic = try SparkplugTopic(group: node.group, verb: .ncmd, edgeNode: node.edgeNode)
                let payload = try Payload(timestamp: Date().milliseconds, metrics: [
                    Metric(name: "Node Control/Rebirth", datatype: .boolean, value: .boolean(true)),
                ]).encode()
                try await host.publish(topic: topic.description, payload: payload, qos: .atMostOnce)
                metrics.recordRebirth()
                logger.notice("rebirth requested", metadata: ["node": "\(node)", "reason": "\(reason.rawValue)"])
            } catch {
                logger.warning("rebirth request not sent", metadata: ["node": "\(node)", "error": "\(error)"])
            }
        }
    }

    /// UNS values (retained) and events, QoS 1, concurrently: each publish waits for its PUBACK.
    private func publish(_ messages: [UNSMessage], host: MQTTClient) async {
        guard !messages.isEmpty else { return }
        let logger = self.logger
        await withTaskGroup(of: Void.self) { group in
            for message in messages {
                group.addTask {
                    do {
                        try await host.publish(topic: message.topic, payload: message.payload, qos: .atLeastOnce,
                                               retain: message.retain)
                    } catch {
                        logger.warning("UNS publish failed", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    private func onIO<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            io.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// The STATE timestamp of the current connection, shared by the will provider (network thread) and the
/// birth publisher; a class so the will provider closure can hold it.
final class StateTimestamp: Sendable {
    private let stamp = Atomic<UInt64>(0)

    func set(_ value: UInt64) { stamp.store(value, ordering: .releasing) }

    var value: UInt64 { stamp.load(ordering: .acquiring) }
}
