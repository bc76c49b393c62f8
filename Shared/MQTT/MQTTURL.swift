/// A broker address parsed from `mqtt://[user[:password]@]host[:port]` or `mqtts://…` (TLS).
/// Default ports: 1883 for `mqtt`, 8883 for `mqtts`. IPv6 hosts go in brackets: `mqtt://[::1]:1883`.
/// `description` never shows the password.
public struct MQTTURL: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address (without brackets).
    public var host: String
    /// TCP port.
    public var port: Int
    /// `mqtts://`: connect with TLS.
    public var usesTLS: Bool
    /// User name from the URL, percent-decoded.
    public var username: String?
    /// Password from the URL, percent-decoded. Never printed.
    public var password: String?

    /// Parses `text`; the error names what is wrong and what is accepted, with the password masked.
    public init(parsing text: String) throws(MQTTError) {
        let shown = MQTTURL.redacted(text)
        func invalid(_ why: String) -> MQTTError {
            MQTTError(code: .invalidConfiguration, message: why, context: "MQTT URL \"\(shown)\"")
        }
        guard let schemeEnd = text.range(of: "://") else {
            throw invalid("missing scheme; expected mqtt://host:port or mqtts://host:port")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "mqtt", "tcp": usesTLS = false
        case "mqtts", "ssl", "tls": usesTLS = true
        default: throw invalid("unsupported scheme \"\(scheme)\"; accepted: mqtt, mqtts")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.contains("/") || rest.contains("?") || rest.contains("#") {
            throw invalid("a path, query or fragment is not allowed; expected only host and port")
        }
        username = nil
        password = nil
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let user = MQTTURL.percentDecoded(parts[0]), !user.isEmpty else {
                throw invalid("user name is empty or badly percent-encoded")
            }
            username = user
            if parts.count == 2 {
                guard let pass = MQTTURL.percentDecoded(parts[1]) else {
                    throw invalid("password is badly percent-encoded")
                }
                password = pass
            }
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("IPv6 host is missing \"]\"") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected \"\(after)\" after IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        if host.isEmpty { throw invalid("host is empty") }
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw invalid("port \"\(portText)\" is not a number in 1...65535")
            }
            port = value
        } else {
            port = usesTLS ? 8883 : 1883
        }
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        var text = usesTLS ? "mqtts://" : "mqtt://"
        if let username { text += username + (password == nil ? "" : ":***") + "@" }
        text += host.contains(":") ? "[\(host)]" : host
        return text + ":\(port)"
    }

    /// `text` with anything between `user:` and `@` masked, for error messages about unparsable URLs.
    public static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text.lastIndex(of: "@"),
              at > schemeEnd.upperBound else { return text }
        let userInfo = text[schemeEnd.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// Decodes `%XX` escapes; nil when an escape is malformed or the result is not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
