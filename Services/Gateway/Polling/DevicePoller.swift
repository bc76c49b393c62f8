import Foundation
import Logging
import Metrics
import Modbus
import Sparkplug

/// What a device poller reports to the edge node.
enum PollOutcome: Sendable {
    /// Values read in one poll (index into the device's tags, value), and the tags whose block the device
    /// refused (Modbus exception): their metrics turn STALE.
    case samples(device: Int, [(Int, MetricValue)], refused: [Int])
    /// The device did not answer after its retries: it is gone until a later poll succeeds.
    case failed(device: Int, ModbusError)
}

/// Polls one device over one Modbus TCP connection: each poll group on its own interval, reads planned by
/// `ReadPlan`, retries then backoff after a failure. Owns the device's `ModbusTCPClient`; writes share it,
/// and the client serializes them with the reads.
struct DevicePoller: Sendable {
    let index: Int
    let device: DeviceConfig
    let client: ModbusTCPClient
    let groups: [(interval: Duration, plan: ReadPlan)]
    let logger: Logger

    init(index: Int, device: DeviceConfig, pollGroups: [PollGroupConfig], maxGap: Int, logger: Logger) {
        self.index = index
        self.device = device
        client = ModbusTCPClient(host: device.host, port: device.port, timeout: device.timeout)
        groups = pollGroups.compactMap { group in
            let indices = device.tags.indices.filter { device.tags[$0].pollGroup == group.name }
            guard !indices.isEmpty else { return nil }
            return (group.interval, ReadPlan(tags: device.tags, indices: indices, unit: device.unitID, maxGap: maxGap))
        }
        var logger = logger
        logger[metadataKey: "device"] = "\(device.name)"
        self.logger = logger
    }

    /// What one poll read: values (index into the device's tags, value) and the tags the device refused.
    struct Reading: Sendable {
        var values: [(Int, MetricValue)] = []
        var refused: [Int] = []
    }

    /// Reads every tag once (all groups): the values and refused tags, or the error that stopped it. Used by
    /// `gateway check` and by each poll.
    func readAll(plans: [ReadPlan]? = nil) async -> Result<Reading, ModbusError> {
        var reading = Reading()
        for plan in plans ?? groups.map(\.plan) {
            for read in plan.reads {
                switch await perform(read) {
                case .success(let decoded): reading.values += decoded
                case .failure(let error) where error.code == .deviceException:
                    // The device is there but refuses this block (wrong address, unsupported function):
                    // its tags go stale; the others still count.
                    reading.refused += read.tags
                    Metrics.Counter(label: "gateway_poll_errors_total",
                                    dimensions: [("device", device.name), ("kind", error.code.rawValue)]).increment()
                    logger.warning("read refused", metadata: [
                        "read": "\(read.area.rawValue) \(read.start)+\(read.count) unit \(read.unit)",
                        "error": "\(error)",
                    ])
                case .failure(let error): return .failure(error)
                }
            }
        }
        return .success(reading)
    }

    /// One read with its retries.
    private func perform(_ read: ReadPlan.Read) async -> Result<[(Int, MetricValue)], ModbusError> {
        var attempt = 0
        while true {
            do {
                let response = try await client.send(read.request, unit: read.unit)
                return .success(ReadPlan.values(of: read, response: response, tags: device.tags))
            } catch {
                if error.code == .deviceException || attempt >= device.retries { return .failure(error) }
                attempt += 1
                Metrics.Counter(label: "gateway_poll_errors_total",
                                dimensions: [("device", device.name), ("kind", error.code.rawValue)]).increment()
            }
        }
    }

    /// Polls until cancelled, reporting through `report`. After a failure it waits with exponential backoff
    /// (from the device's minimum to its maximum) before trying again; the first success resets it.
    func run(report: @escaping @Sendable (PollOutcome) async -> Void) async {
        let clock = ContinuousClock()
        var due = groups.map { _ in clock.now }
        var backoff: Duration? = nil
        let duration = Metrics.Timer(label: "gateway_poll_duration_seconds", dimensions: [("device", device.name)])
        let polls = Metrics.Counter(label: "gateway_polls_total", dimensions: [("device", device.name)])
        while !Task.isCancelled {
            guard let next = due.min() else { return }
            do { try await clock.sleep(until: next) } catch { return }
            let now = clock.now
            let dueGroups = groups.indices.filter { due[$0] <= now }
            let start = clock.now
            let result = await readAll(plans: dueGroups.map { groups[$0].plan })
            duration.recordNanoseconds(Int64((clock.now - start).nanoseconds))
            polls.increment()
            switch result {
            case .success(let reading):
                backoff = nil
                await report(.samples(device: index, reading.values, refused: reading.refused))
                for group in dueGroups {
                    // Fixed rate, but never a burst of catch-up polls after a stall.
                    due[group] = max(due[group] + groups[group].interval, now)
                }
            case .failure(let error):
                Metrics.Counter(label: "gateway_poll_errors_total",
                                dimensions: [("device", device.name), ("kind", error.code.rawValue)]).increment()
                if backoff == nil { logger.warning("device not answering", metadata: ["error": "\(error)"]) }
                await report(.failed(device: index, error))
                let delay = backoff.map { min($0 * 2, device.backoffMaximum) } ?? device.backoffMinimum
                backoff = delay
                due = due.map { _ in clock.now + delay }
            }
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
