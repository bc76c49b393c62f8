import Foundation

/// RFC 3339 timestamps as every Shopfloor event writes them: UTC, `Z`, exactly three fractional digits
/// (`2026-11-22T08:15:30.250Z`). Reading accepts any RFC 3339 form (offsets, 0–9 fractional digits).
public enum RFC3339 {
    /// Formats `date` in UTC with millisecond precision, rounding to the nearest millisecond.
    public static func string(from date: Date) -> String {
        // Rounding ourselves: the format style truncates, which turns .123 into .122 for many doubles.
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = (milliseconds / 1000).rounded(.down)
        let fraction = Int(milliseconds - seconds * 1000)
        let whole = Date(timeIntervalSince1970: seconds).formatted(wholeSeconds)
        let digits = String(fraction)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Parses an RFC 3339 date-time; nil when `text` is not one.
    public static func date(from text: String) -> Date? {
        // RFC 3339 §5.6 allows lower-case t and z; the format style wants upper case.
        let upper = text.uppercased()
        guard upper.count >= 20, upper.dropFirst(10).first == "T" else { return nil }
        let hasFraction = upper.dropFirst(19).first == "."
        return try? (hasFraction ? withFraction : wholeSeconds).parse(upper)
    }

    private static let wholeSeconds = Date.ISO8601FormatStyle(timeZone: .gmt)
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
}

/// The JSON coders every event goes through, so dates are RFC 3339 strings everywhere (envelope and data)
/// and output is stable: sorted keys, `/` not escaped.
public enum EventJSON {
    /// An encoder writing compact, key-sorted JSON with RFC 3339 dates.
    public static func makeEncoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
                                          : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return encoder
    }

    /// A decoder reading RFC 3339 dates; a date in any other form fails naming its field.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                    "\"\(text)\" is not an RFC 3339 date-time such as 2026-11-22T08:15:30.250Z"))
            }
            return date
        }
        return decoder
    }
}
