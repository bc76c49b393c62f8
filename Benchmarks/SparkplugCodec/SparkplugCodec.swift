import Benchmark
import CSparkplugB
import Sparkplug

/// A DDATA like the gateway sends every poll: 10 aliased metrics, no names, no datatypes.
let ddata = Payload(
    timestamp: 1_700_000_000_000,
    metrics: (0..<10).map { index -> Metric in
        let value: MetricValue = switch index % 5 {
        case 0: .float(21.5 + Float(index))
        case 1: .int32(Int32(index) * -1000)
        case 2: .boolean(index % 2 == 0)
        case 3: .uint64(UInt64(index) << 33)
        default: .double(1013.25 * Double(index))
        }
        return Metric(alias: UInt64(index + 1), timestamp: 1_700_000_000_000 + UInt64(index), value: value)
    },
    seq: 42)

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal], scalingFactor: .kilo,
        maxDuration: .seconds(5), maxIterations: 1_000_000)

    // What a service pays per message: Swift values -> protobuf-c -> bytes -> protobuf-c -> Swift values.
    Benchmark("DDATA 10 metrics encode+decode (Swift API)", configuration: configuration) { benchmark throws in
        for _ in benchmark.scaledIterations {
            blackHole(try Payload(decoding: try ddata.encode()))
        }
    }

    // Lower bound: protobuf-c alone on the same bytes (unpack + pack into a reused buffer),
    // without the Swift conversion, validation or wire pre-scan.
    Benchmark("DDATA 10 metrics unpack+pack (raw protobuf-c reference)", configuration: configuration) { benchmark throws in
        let bytes = try ddata.encode()
        var output = [UInt8](repeating: 0, count: bytes.count * 2)
        for _ in benchmark.scaledIterations {
            bytes.withUnsafeBufferPointer { input in
                guard let message = org__eclipse__tahu__protobuf__payload__unpack(nil, input.count, input.baseAddress)
                else { return }
                output.withUnsafeMutableBufferPointer { out in
                    blackHole(org__eclipse__tahu__protobuf__payload__pack(message, out.baseAddress))
                }
                org__eclipse__tahu__protobuf__payload__free_unpacked(message, nil)
            }
        }
    }
}
