import Metrics
import Synchronization

/// The host's counters, exported on `/metrics` (swift-metrics) and readable in-process by tests.
public final class StreamMetrics: Sendable {
    /// A snapshot of the counters.
    public struct Snapshot: Sendable, Equatable {
        public var messages = 0
        public var samplesStored = 0
        public var sequenceGaps = 0
        public var rebirthsRequested = 0
        public var deadLetters = 0
        public var journalDepthBytes = 0
    }

    private let state = Mutex(Snapshot())
    private let messages: Counter
    private let samples: Counter
    private let gaps: Counter
    private let rebirths: Counter
    private let dead: Counter
    private let depth: Gauge
    private let lag: Gauge

    public init(instance: String) {
        let dimensions = [("instance", instance)]
        messages = Counter(label: "stream_messages_total", dimensions: dimensions)
        samples = Counter(label: "stream_samples_stored_total", dimensions: dimensions)
        gaps = Counter(label: "stream_seq_gaps_total", dimensions: dimensions)
        rebirths = Counter(label: "stream_rebirths_requested_total", dimensions: dimensions)
        dead = Counter(label: "stream_dead_letters_total", dimensions: dimensions)
        depth = Gauge(label: "stream_journal_depth_bytes", dimensions: dimensions)
        lag = Gauge(label: "stream_lag_seconds", dimensions: dimensions)
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    func recordBatch(messages count: Int, samplesStored: Int, deadLetters: Int) {
        state.withLock {
            $0.messages += count
            $0.samplesStored += samplesStored
            $0.deadLetters += deadLetters
        }
        messages.increment(by: count)
        samples.increment(by: samplesStored)
        dead.increment(by: deadLetters)
    }

    func recordGap() {
        state.withLock { $0.sequenceGaps += 1 }
        gaps.increment()
    }

    func recordRebirth() {
        state.withLock { $0.rebirthsRequested += 1 }
        rebirths.increment()
    }

    /// Unstored journal bytes and the age of the oldest message just loaded.
    func recordJournal(depthBytes: Int, lagSeconds: Double) {
        state.withLock { $0.journalDepthBytes = depthBytes }
        depth.record(depthBytes)
        lag.record(lagSeconds)
    }
}
