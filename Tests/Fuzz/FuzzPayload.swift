// libFuzzer entry for the Sparkplug payload decoder. Not a SwiftPM target: scripts/fuzz-sparkplug.sh
// compiles it together with Shared/Sparkplug/*.swift under -sanitize=fuzzer,address.

/// Decodes arbitrary bytes; whatever decodes must re-encode, decode again and re-encode to the same
/// bytes (bytes, not values, are compared so that NaN floats do not count as differences).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPayload(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let payload = try? Payload(decoding: input) else { return 0 }
    do {
        let first = try payload.encode()
        let second = try Payload(decoding: first).encode()
        precondition(first == second, "re-encoding changed the bytes")
    } catch {
        // A payload we accepted must be one we can send again: anything else is a codec bug.
        preconditionFailure("decoded payload does not round-trip: \(error)")
    }
    return 0
}
