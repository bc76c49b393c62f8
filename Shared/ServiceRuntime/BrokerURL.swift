/// Where the MQTT broker is and how to log in: `mqtt://[user:pass@]host:port` or `mqtts://…` for TLS.
public struct BrokerURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var tls: Bool

    /// Why a URL was rejected, without the password.
    public struct ParseError: Error, Sendable {
        public let reason: String
    }

    public init(host: String, port: Int, username: String? = nil, password: String? = nil, tls: Bool = false) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls = tls
    }

    /// Parses the URL; the default port is 1883 (8883 with TLS).
    public init(parsing text: String) throws(ParseError) {
        let scheme: Substring
        var rest: Substring
        if let range = text.range(of: "://") {
            scheme = text[..<range.lowerBound]
            rest = text[range.upperBound...]
        } else {
            throw ParseError(reason: "missing scheme (mqtt:// or mqtts://)")
        }
        switch scheme.lowercased() {
        case "mqtt", "tcp": tls = false
        case "mqtts", "ssl": tls = true
        default: throw ParseError(reason: "unknown scheme \"\(scheme)\"")
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                username = String(credentials[..<colon]).removingPercentEncodingIfPossible
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncodingIfPossible
            } else {
                username = String(credentials).removingPercentEncodingIfPossible
                password = nil
            }
            if username?.isEmpty == true { throw ParseError(reason: "empty user name before '@'") }
        } else {
            username = nil
            password = nil
        }
        guard !rest.contains("/") else { throw ParseError(reason: "a path is not allowed") }
        if rest.hasPrefix("[") {  // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { throw ParseError(reason: "unclosed '[' in host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            rest = rest[colon...]
        } else {
            host = String(rest)
            rest = ""
        }
        guard !host.isEmpty else { throw ParseError(reason: "missing host") }
        if rest.isEmpty {
            port = tls ? 8883 : 1883
        } else {
            guard rest.first == ":", let value = Int(rest.dropFirst()), (1...65535).contains(value) else {
                throw ParseError(reason: "port must be an integer in 1…65535")
            }
            port = value
        }
    }

    /// The URL with the password replaced by `***`, for logs and error messages.
    public var description: String {
        var text = tls ? "mqtts://" : "mqtt://"
        if let username { text += username + (password == nil ? "@" : ":***@") }
        return text + (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }

    /// Redacts the password of a URL that failed to parse, so it can appear in an error message.
    public static func redacting(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.lastIndex(of: "@"), at > scheme.upperBound,
              let colon = text[scheme.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }
}

extension String {
    /// Percent-decodes user names and passwords (`p%40ss` → `p@ss`); leaves malformed escapes as they are.
    fileprivate var removingPercentEncodingIfPossible: String {
        let source = Array(utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "%"), index + 2 < source.count,
               let value = UInt8(String(decoding: source[index + 1...index + 2], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
