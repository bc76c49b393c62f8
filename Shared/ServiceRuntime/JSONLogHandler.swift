import Foundation
import Logging

/// Writes one JSON object per line to standard error, for log shippers (Loki, Elasticsearch, journald):
/// `{"ts":"…","level":"info","service":"gateway","label":"…","msg":"…","source":"…", <metadata>}`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let service: String

    public init(label: String, service: String) {
        self.label = label
        self.service = service
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard var line = render(event, at: Date()) else { return }
        line.append(UInt8(ascii: "\n"))
        // One write(2) per line keeps lines whole when several threads log at once.
        line.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// The JSON object of one log line, without the newline.
    func render(_ event: LogEvent, at time: Date) -> Data? {
        var fields: [String: Any] = [
            "ts": time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            "level": event.level.rawValue,
            "service": service,
            "label": label,
            "msg": "\(event.message)",
            "source": event.source,
            "loc": "\(event.file.split(separator: "/").last ?? ""):\(event.line)",
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged where fields[key] == nil {
            fields[key] = Self.json(value)
        }
        return try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    private static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): "\(value)"
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}
