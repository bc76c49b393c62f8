/// Walks protobuf bytes before protobuf-c sees them. protobuf-c unpacks nested messages recursively
/// with no depth limit and copies strings with a trailing NUL (losing anything after an embedded
/// NUL, accepting invalid UTF-8), so this pass bounds nesting, checks every string field of the
/// Sparkplug schema, and reports truncation with a field path instead of a bare NULL.
enum WireScan {
    /// Deepest message nesting accepted (Payload = 1). Enough for templates nested a dozen deep.
    static let maxDepth = 32

    /// The Sparkplug messages, for what each field number holds.
    enum Message {
        case payload, metric, metaData, propertySet, propertySetList, propertyValue
        case dataSet, row, dataSetValue, template, parameter

        /// A length-delimited field's role: a string to check, a message to descend into.
        enum Field { case string(String), message(Message, String) }

        /// Length-delimited fields with meaning; others (bytes, extensions, unknown) are skipped.
        func field(_ number: UInt64) -> Field? {
            switch (self, number) {
            case (.payload, 2): .message(.metric, "metrics")
            case (.payload, 4): .string("uuid")
            case (.metric, 1): .string("name")
            case (.metric, 8): .message(.metaData, "metadata")
            case (.metric, 9): .message(.propertySet, "properties")
            case (.metric, 15): .string("string_value")
            case (.metric, 17): .message(.dataSet, "dataset_value")
            case (.metric, 18): .message(.template, "template_value")
            case (.metaData, 2): .string("content_type")
            case (.metaData, 5): .string("file_name")
            case (.metaData, 6): .string("file_type")
            case (.metaData, 7): .string("md5")
            case (.metaData, 8): .string("description")
            case (.propertySet, 1): .string("keys")
            case (.propertySet, 2): .message(.propertyValue, "values")
            case (.propertySetList, 1): .message(.propertySet, "propertyset")
            case (.propertyValue, 8): .string("string_value")
            case (.propertyValue, 9): .message(.propertySet, "propertyset_value")
            case (.propertyValue, 10): .message(.propertySetList, "propertysets_value")
            case (.dataSet, 2): .string("columns")
            case (.dataSet, 4): .message(.row, "rows")
            case (.row, 1): .message(.dataSetValue, "elements")
            case (.dataSetValue, 6): .string("string_value")
            case (.template, 1): .string("version")
            case (.template, 2): .message(.metric, "metrics")
            case (.template, 3): .message(.parameter, "parameters")
            case (.template, 4): .string("template_ref")
            case (.parameter, 1): .string("name")
            case (.parameter, 8): .string("string_value")
            default: nil
            }
        }
    }

    /// Checks a whole `Payload`.
    static func check(_ bytes: UnsafeRawBufferPointer) throws(SparkplugError) {
        try scan(bytes, bytes.startIndex..<bytes.endIndex, .payload, depth: 1, path: "payload")
    }

    private static func scan(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ message: Message,
                             depth: Int, path: @autoclosure () -> String) throws(SparkplugError) {
        guard depth <= maxDepth else {
            throw SparkplugError(.nestingTooDeep, path(), "messages nest deeper than \(maxDepth) levels")
        }
        var index = range.lowerBound
        // Occurrences per field number, only for error paths; Sparkplug field numbers stay below 20.
        var counts = InlineArray<20, Int>(repeating: 0)
        while index < range.upperBound {
            let key = try varint(bytes, &index, range.upperBound, path())
            let number = key >> 3
            guard number != 0 else {
                throw SparkplugError(.malformedProtobuf, path(), "field number 0 at byte \(index)")
            }
            switch key & 7 {
            case 0: _ = try varint(bytes, &index, range.upperBound, path())
            case 1: try skip(8, &index, range.upperBound, path())
            case 5: try skip(4, &index, range.upperBound, path())
            case 2:
                let length = try varint(bytes, &index, range.upperBound, path())
                guard length <= UInt64(range.upperBound - index) else {
                    throw SparkplugError(.malformedProtobuf, path(),
                                         "field \(number) claims \(length) bytes, \(range.upperBound - index) remain")
                }
                let body = index..<(index + Int(length))
                index = body.upperBound
                switch message.field(number) {
                case .string(let name):
                    let position = counts[Int(number)]
                    counts[Int(number)] = position + 1
                    try checkString(bytes, body, "\(path()).\(name)[\(position)]")
                case .message(let child, let name):
                    let position = counts[Int(number)]
                    counts[Int(number)] = position + 1
                    try scan(bytes, body, child, depth: depth + 1, path: "\(path()).\(name)[\(position)]")
                case nil:
                    break
                }
            default:
                // Groups (3, 4) and the reserved wire types do not occur in the Sparkplug schema.
                throw SparkplugError(.malformedProtobuf, path(), "unsupported wire type \(key & 7) in field \(number)")
            }
        }
    }

    private static func checkString(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>,
                                    _ path: @autoclosure () -> String) throws(SparkplugError) {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard !slice.contains(0) else {
            throw SparkplugError(.invalidString, path(), "string contains a NUL byte")
        }
        guard String(validating: slice, as: UTF8.self) != nil else {
            throw SparkplugError(.invalidString, path(), "string is not valid UTF-8")
        }
    }

    private static func skip(_ count: Int, _ index: inout Int, _ end: Int, _ path: @autoclosure () -> String) throws(SparkplugError) {
        guard end - index >= count else {
            throw SparkplugError(.malformedProtobuf, path(), "truncated: \(count)-byte field at byte \(index)")
        }
        index += count
    }

    private static func varint(_ bytes: UnsafeRawBufferPointer, _ index: inout Int, _ end: Int,
                               _ path: @autoclosure () -> String) throws(SparkplugError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < end {
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { break }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw SparkplugError(.malformedProtobuf, path(), "truncated or overlong varint at byte \(index)")
    }
}
