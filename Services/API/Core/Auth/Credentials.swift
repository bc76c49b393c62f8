import Foundation

/// A stored password: `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`. The iteration count travels with
/// the hash so it can be raised later without invalidating old passwords.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
    public static let defaultIterations = 210_000
    /// Shortest password `api admin create` and `POST /v1/users` accept.
    public static let minimumPasswordLength = 8

    public let iterations: Int
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// Hashes `password` with a fresh 16-byte salt.
    public init(hashing password: String, iterations: Int = PasswordHash.defaultIterations) throws(APIError) {
        self.iterations = iterations
        salt = try LibCrypto.randomBytes(16)
        hash = try LibCrypto.pbkdf2SHA256(password: Array(password.utf8), salt: salt, iterations: iterations, length: 32)
    }

    /// Parses the stored form; nil when it is not one.
    public init?(stored: String) {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]), iterations > 0,
              let salt = Hex.decode(parts[2]), let hash = Hex.decode(parts[3]) else { return nil }
        self.iterations = iterations
        self.salt = salt
        self.hash = hash
    }

    /// Whether `password` is the one hashed, compared in constant time.
    public func verify(_ password: String) throws(APIError) -> Bool {
        let candidate = try LibCrypto.pbkdf2SHA256(password: Array(password.utf8), salt: salt,
                                                   iterations: iterations, length: hash.count)
        return LibCrypto.equal(candidate, hash)
    }

    /// The stored form.
    public var description: String { "pbkdf2-sha256$\(iterations)$\(Hex.encode(salt))$\(Hex.encode(hash))" }
}

/// Bearer secrets (sessions and API tokens): 32 random bytes shown once as `sf_<hex>`; only their SHA-256 is
/// stored, which is enough for a secret with 256 bits of entropy (no salt or stretching needed).
public enum BearerSecret {
    /// A new secret and the digest to store.
    public static func generate() throws(APIError) -> (secret: String, digest: String) {
        let secret = "sf_" + Hex.encode(try LibCrypto.randomBytes(32))
        return (secret, try digest(of: secret))
    }

    /// The stored digest of a presented secret.
    public static func digest(of secret: String) throws(APIError) -> String {
        Hex.encode(try LibCrypto.sha256(Array(secret.utf8)))
    }
}

/// Lower-case hexadecimal, for hashes and salts in the store.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
