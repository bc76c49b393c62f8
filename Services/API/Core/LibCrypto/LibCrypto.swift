import COpenSSL

/// libcrypto (OpenSSL) calls the api uses: PBKDF2-HMAC-SHA256, SHA-256 and the CSPRNG. Stateless: no handle
/// outlives a call, so there is nothing to own. Each call is short CPU work (PBKDF2 ~50 ms), not I/O.
enum LibCrypto {
    /// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) of `password` with `salt`.
    static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) throws(APIError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        let rc = password.withUnsafeBufferPointer { passwordBuffer in
            salt.withUnsafeBufferPointer { saltBuffer in
                passwordBuffer.withMemoryRebound(to: CChar.self) { passwordChars in
                    PKCS5_PBKDF2_HMAC(passwordChars.baseAddress, Int32(password.count), saltBuffer.baseAddress,
                                      Int32(salt.count), Int32(iterations), EVP_sha256(), Int32(length), &output)
                }
            }
        }
        guard rc == 1 else { throw APIError(.internalError, "PKCS5_PBKDF2_HMAC failed (\(errorText()))") }
        return output
    }

    /// SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) throws(APIError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let rc = bytes.withUnsafeBufferPointer {
            EVP_Digest($0.baseAddress, $0.count, &output, &length, EVP_sha256(), nil)
        }
        guard rc == 1 else { throw APIError(.internalError, "EVP_Digest failed (\(errorText()))") }
        return output
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    static func randomBytes(_ count: Int) throws(APIError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&output, Int32(count)) == 1 else {
            throw APIError(.internalError, "RAND_bytes failed (\(errorText()))")
        }
        return output
    }

    /// Constant-time comparison, so a hash check leaks no prefix length.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    /// OpenSSL's text for the last error on this thread.
    private static func errorText() -> String {
        let code = ERR_get_error()
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
