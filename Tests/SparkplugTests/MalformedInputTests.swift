import Sparkplug
import Testing

/// Decoding hostile bytes must throw a precise error, never trap.
@Suite("Malformed input")
struct MalformedInputTests {
    /// Decodes and returns the error code, or nil when decoding succeeded.
    func failure(_ bytes: [UInt8]) -> SparkplugError.Code? {
        do {
            _ = try Payload(decoding: bytes)
            return nil
        } catch {
            return error.code
        }
    }

    /// A payload with one metric "m" of `datatype` whose value member is `value` (raw protobuf).
    func metric(datatype: UInt8, value: [UInt8]) -> [UInt8] {
        let body: [UInt8] = [0x0A, 0x01, 0x6D, 0x20, datatype] + value
        return [0x12, UInt8(body.count)] + body
    }

    @Test("every truncation of a valid payload throws or decodes, never traps")
    func truncations() throws {
        let full = bytes(goldenCases.map(\.1).joined())
        for length in 0..<full.count {
            _ = failure(Array(full[0..<length]))
        }
        #expect(failure([0x12, 0x05, 0x0A]) == .malformedProtobuf)
        #expect(failure([0x08]) == .malformedProtobuf)
        #expect(failure([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) == .malformedProtobuf)
    }

    @Test("deterministic garbage never traps")
    func garbage() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in 0..<600 {
            var input: [UInt8] = []
            for _ in 0..<(length % 64) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                input.append(UInt8(truncatingIfNeeded: state >> 33))
            }
            _ = failure(input)
        }
    }

    @Test("datatype and value member disagree")
    func mismatch() {
        // Int8 carried in string_value.
        #expect(failure(metric(datatype: 1, value: [0x7A, 0x01, 0x41])) == .valueMismatch)
        // Double carried in int_value.
        #expect(failure(metric(datatype: 10, value: [0x50, 0x01])) == .valueMismatch)
        // is_null together with a value.
        #expect(failure(metric(datatype: 3, value: [0x38, 0x01, 0x50, 0x01])) == .valueMismatch)
    }

    @Test("unknown datatype numbers and types not allowed for a metric")
    func unknownTypes() {
        #expect(failure(metric(datatype: 35, value: [0x50, 0x01])) == .unknownDataType)
        #expect(failure(metric(datatype: 0, value: [0x50, 0x01])) == .unknownDataType)
        #expect(failure(metric(datatype: 20, value: [0x50, 0x01])) == .unknownDataType)
    }

    @Test("integers outside their datatype's range")
    func outOfRange() {
        #expect(failure(metric(datatype: 5, value: [0x50, 0x80, 0x02])) == .valueOutOfRange)  // UInt8 256
        #expect(failure(metric(datatype: 1, value: [0x50, 0x80, 0x02])) == .valueOutOfRange)  // Int8 256
    }

    @Test("array lengths that are not a whole number of elements")
    func malformedArrays() {
        #expect(failure(metric(datatype: 24, value: [0x82, 0x01, 0x03, 1, 2, 3])) == .malformedArray)
        #expect(failure(metric(datatype: 31, value: [0x82, 0x01, 0x04, 1, 2, 3, 4])) == .malformedArray)
        #expect(failure(metric(datatype: 32, value: [0x82, 0x01, 0x02, 9, 0])) == .malformedArray)
        #expect(failure(metric(datatype: 32, value: [0x82, 0x01, 0x05, 9, 0, 0, 0, 0xFF])) == .malformedArray)
        #expect(failure(metric(datatype: 32, value: [0x82, 0x01, 0x04, 0xFF, 0xFF, 0xFF, 0x7F])) == .malformedArray)
        #expect(failure(metric(datatype: 33, value: [0x82, 0x01, 0x02, 0x61, 0x62])) == .malformedArray)
        #expect(failure(metric(datatype: 33, value: [0x82, 0x01, 0x02, 0xFF, 0x00])) == .invalidString)
    }

    @Test("invalid UTF-8 and NUL bytes in strings are errors naming the field")
    func strings() throws {
        #expect(failure([0x12, 0x03, 0x0A, 0x01, 0xFF]) == .invalidString)
        #expect(failure([0x12, 0x04, 0x0A, 0x02, 0x61, 0x00]) == .invalidString)
        do {
            _ = try Payload(decoding: [0x12, 0x03, 0x0A, 0x01, 0xC3])
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.context == "payload.metrics[0].name[0]")
        }
    }

    @Test("nesting deeper than the limit is rejected before protobuf-c recurses")
    func deepNesting() {
        // metric -> template -> metric -> template ... 20000 levels, built inside out.
        var inner: [UInt8] = []
        for level in 0..<19_999 {  // odd count: the outermost level is a metric body
            let field: UInt8 = level % 2 == 0 ? 0x92 : 0x12  // template_value (18) / metrics (2)
            let header: [UInt8] = level % 2 == 0 ? [field, 0x01] : [field]
            inner = header + varint(inner.count) + inner
        }
        #expect(failure([0x12] + varint(inner.count) + inner) == .nestingTooDeep)
    }

    @Test("error text names the metric and the problem")
    func errorText() {
        do {
            _ = try Payload(decoding: metric(datatype: 1, value: [0x7A, 0x01, 0x41]))
            Issue.record("mismatch was accepted")
        } catch {
            #expect(error.description == "sparkplug valueMismatch: metric \"m\": datatype Int8 cannot be carried in string_value")
        }
    }

    func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value)
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }
}
