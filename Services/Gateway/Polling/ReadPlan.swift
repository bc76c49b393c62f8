import Modbus
import Sparkplug

/// The Modbus reads that fetch a set of tags: tags of one area and unit that lie close together share one
/// request (at most 125 registers or 2000 bits), and a request never spans a gap wider than `maxGap`
/// registers, since unused registers may not exist on the device (exception 2) and cost bandwidth.
struct ReadPlan: Sendable, Equatable {
    /// One request and the tags it covers.
    struct Read: Sendable, Equatable {
        var unit: UInt8
        var area: ModbusArea
        var start: UInt16
        var count: Int
        /// Indices into the device's tag list.
        var tags: [Int]

        var request: ModbusRequest {
            let count = UInt16(count)
            switch area {
            case .coil: return .readCoils(address: start, count: count)
            case .discrete: return .readDiscreteInputs(address: start, count: count)
            case .input: return .readInputRegisters(address: start, count: count)
            case .holding: return .readHoldingRegisters(address: start, count: count)
            }
        }
    }

    var reads: [Read]

    /// Plans the reads for `indices` of `tags` (the ones in one poll group) of a device whose unit is `unit`.
    init(tags: [TagConfig], indices: [Int], unit: UInt8, maxGap: Int) {
        let sorted = indices.sorted { a, b in
            let ta = tags[a], tb = tags[b]
            let ua = ta.address.unit ?? unit, ub = tb.address.unit ?? unit
            if ua != ub { return ua < ub }
            if ta.address.area != tb.address.area { return ta.address.area.rawValue < tb.address.area.rawValue }
            return ta.address.offset < tb.address.offset
        }
        var reads: [Read] = []
        for index in sorted {
            let tag = tags[index]
            let tagUnit = tag.address.unit ?? unit
            let start = Int(tag.address.offset), end = start + tag.width
            let limit = tag.address.area.isBit ? ModbusLimits.readBits.upperBound : ModbusLimits.readRegisters.upperBound
            if var last = reads.last, last.unit == tagUnit, last.area == tag.address.area {
                let lastEnd = Int(last.start) + last.count
                let gap = start - lastEnd
                let newEnd = max(lastEnd, end)
                if gap <= maxGap && newEnd - Int(last.start) <= limit {
                    last.count = newEnd - Int(last.start)
                    last.tags.append(index)
                    reads[reads.count - 1] = last
                    continue
                }
            }
            reads.append(Read(unit: tagUnit, area: tag.address.area, start: tag.address.offset,
                              count: tag.width, tags: [index]))
        }
        self.reads = reads
    }

    /// The values of a read's tags, decoded from the read's response.
    static func values(of read: Read, response: ModbusResponse, tags: [TagConfig]) -> [(Int, MetricValue)] {
        var result: [(Int, MetricValue)] = []
        for index in read.tags {
            let tag = tags[index]
            let position = Int(tag.address.offset) - Int(read.start)
            switch response {
            case .readCoils(let bits), .readDiscreteInputs(let bits):
                guard position >= 0, position < bits.count else { continue }
                result.append((index, TagCodec.decode(bit: bits[position])))
            case .readHoldingRegisters(let registers), .readInputRegisters(let registers):
                guard position >= 0, position + tag.width <= registers.count else { continue }
                let slice = registers[position..<(position + tag.width)]
                result.append((index, TagCodec.decode(registers: slice, as: tag)))
            default:
                continue
            }
        }
        return result
    }
}
