import CProtobufC
import CSparkplugB

/// bytes -> protobuf-c message tree -> Swift values. The C tree is freed in a `defer` right after
/// copying out, so no C pointer outlives `decode`.
enum ProtobufCDecoder {
    static func decode(_ bytes: [UInt8]) throws(SparkplugError) -> Payload {
        // withUnsafeBytes only rethrows untyped errors, so the scan result travels out as a Result.
        let outcome: Result<UnsafeMutablePointer<PBPayload>?, SparkplugError> = bytes.withUnsafeBytes { buffer in
            do throws(SparkplugError) {
                try WireScan.check(buffer)
            } catch {
                return .failure(error)
            }
            return .success(org__eclipse__tahu__protobuf__payload__unpack(
                nil, buffer.count, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)))
        }
        let unpacked = try outcome.get()
        guard let unpacked else {
            throw SparkplugError(.malformedProtobuf, "payload",
                                 "protobuf-c could not unpack \(bytes.count) bytes as a Sparkplug Payload")
        }
        defer { org__eclipse__tahu__protobuf__payload__free_unpacked(unpacked, nil) }
        let p = unpacked.pointee
        var payload = Payload()
        if p.has_timestamp != 0 { payload.timestamp = p.timestamp }
        if p.has_seq != 0 { payload.seq = p.seq }
        payload.uuid = string(p.uuid)
        if p.has_body != 0 { payload.body = binary(p.body) }
        payload.metrics = try metrics(p.metrics, p.n_metrics, "")
        return payload
    }

    /// Strings were checked for UTF-8 and NUL bytes by `WireScan`, so this copy is exact.
    private static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func binary(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: base, count: data.len))
    }

    /// Iterates a protobuf-c repeated message field (count + array of pointers).
    private static func each<Message, Result>(_ array: UnsafeMutablePointer<UnsafeMutablePointer<Message>?>?,
                                              _ count: Int,
                                              _ body: (Int, Message) throws(SparkplugError) -> Result)
        throws(SparkplugError) -> [Result] {
        guard count > 0, let array else { return [] }
        var out: [Result] = []
        out.reserveCapacity(count)
        for index in 0..<count {
            guard let element = array[index] else { continue }
            out.append(try body(index, element.pointee))
        }
        return out
    }

    private static func metrics(_ array: UnsafeMutablePointer<UnsafeMutablePointer<PBMetric>?>?, _ count: Int,
                                _ prefix: String) throws(SparkplugError) -> [Metric] {
        try each(array, count) { (index, m) throws(SparkplugError) in try metric(m, index, prefix) }
    }

    private static func metric(_ m: PBMetric, _ index: Int, _ prefix: String) throws(SparkplugError) -> Metric {
        var metric = Metric()
        metric.name = string(m.name)
        if m.has_alias != 0 { metric.alias = m.alias }
        func context() -> String { prefix + metric.label(index) }
        if m.has_timestamp != 0 { metric.timestamp = m.timestamp }
        if m.has_datatype != 0 { metric.datatype = try dataType(m.datatype, context()) }
        metric.isHistorical = m.has_is_historical != 0 && m.is_historical != 0
        metric.isTransient = m.has_is_transient != 0 && m.is_transient != 0
        metric.isNull = m.has_is_null != 0 && m.is_null != 0
        if let d = m.metadata?.pointee {
            metric.metadata = MetaData(
                isMultiPart: d.has_is_multi_part != 0 ? d.is_multi_part != 0 : nil,
                contentType: string(d.content_type), size: d.has_size != 0 ? d.size : nil,
                seq: d.has_seq != 0 ? d.seq : nil, fileName: string(d.file_name),
                fileType: string(d.file_type), md5: string(d.md5), description: string(d.description))
        }
        if let properties = m.properties?.pointee {
            metric.properties = try propertySet(properties, "\(context()) properties")
        }
        let wire: UntypedValue?
        switch m.value_case {
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE__NOT_SET: wire = nil
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_INT_VALUE: wire = .int(m.int_value)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_LONG_VALUE: wire = .long(m.long_value)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_FLOAT_VALUE: wire = .float(m.float_value)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE: wire = .double(m.double_value)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE: wire = .boolean(m.boolean_value != 0)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_STRING_VALUE: wire = string(m.string_value).map(UntypedValue.string)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_BYTES_VALUE: wire = .bytes(binary(m.bytes_value))
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_DATASET_VALUE:
            guard let d = m.dataset_value?.pointee else { wire = nil; break }
            wire = .dataSet(try dataSet(d, "\(context()) dataset"))
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_TEMPLATE_VALUE:
            guard let t = m.template_value?.pointee else { wire = nil; break }
            wire = .template(try template(t, "\(context()) template"))
        default:
            throw SparkplugError(.valueMismatch, context(), "extension values are not supported")
        }
        guard let wire else { return metric }
        if metric.isNull {
            throw SparkplugError(.valueMismatch, context(), "is_null is set but \(wire.member) carries a value")
        }
        if let datatype = metric.datatype {
            if datatype == .propertySet || datatype == .propertySetList {
                throw SparkplugError(.unknownDataType, context(), "datatype \(datatype) is not allowed for a metric")
            }
            metric.value = try MetricValue(wire: wire, as: datatype, context())
        } else {
            metric.value = .untyped(wire)
        }
        return metric
    }

    private static func propertySet(_ s: PBPropertySet, _ context: @autoclosure () -> String) throws(SparkplugError) -> PropertySet {
        guard s.n_keys == s.n_values else {
            throw SparkplugError(.invalidPropertySet, context(), "\(s.n_keys) keys but \(s.n_values) values")
        }
        var entries: [PropertySet.Entry] = []
        for index in 0..<s.n_keys {
            guard let key = string(s.keys[index]), let value = s.values[index]?.pointee else { continue }
            entries.append(PropertySet.Entry(key: key, value: try propertyValue(value, "\(context()) \"\(key)\"")))
        }
        return PropertySet(entries)
    }

    private static func propertyValue(_ p: PBPropertyValue, _ context: @autoclosure () -> String) throws(SparkplugError) -> PropertyValue {
        let datatype = p.has_type != 0 ? try dataType(p.type, context()) : nil
        let wire: UntypedValue?
        switch p.value_case {
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE__NOT_SET: wire = nil
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_INT_VALUE: wire = .int(p.int_value)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_LONG_VALUE: wire = .long(p.long_value)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_FLOAT_VALUE: wire = .float(p.float_value)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_DOUBLE_VALUE: wire = .double(p.double_value)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_BOOLEAN_VALUE: wire = .boolean(p.boolean_value != 0)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_STRING_VALUE: wire = string(p.string_value).map(UntypedValue.string)
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_PROPERTYSET_VALUE:
            guard let s = p.propertyset_value?.pointee else { wire = nil; break }
            wire = .propertySet(try propertySet(s, context()))
        case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_PROPERTYSETS_VALUE:
            guard let list = p.propertysets_value?.pointee else { wire = nil; break }
            wire = .propertySetList(try each(list.propertyset, list.n_propertyset) { (index, s) throws(SparkplugError) in
                try propertySet(s, "\(context())[\(index)]")
            })
        default:
            throw SparkplugError(.invalidPropertySet, context(), "extension values are not supported")
        }
        guard let wire else { return PropertyValue(datatype: datatype, value: nil) }
        if p.has_is_null != 0, p.is_null != 0 {
            throw SparkplugError(.invalidPropertySet, context(), "is_null is set but \(wire.member) carries a value")
        }
        guard let datatype else { return PropertyValue(datatype: nil, value: .untyped(wire)) }
        switch datatype {
        case .dataSet, .bytes, .file, .template, .int8Array, .int16Array, .int32Array, .int64Array, .uint8Array,
             .uint16Array, .uint32Array, .uint64Array, .floatArray, .doubleArray, .booleanArray, .stringArray,
             .dateTimeArray:
            throw SparkplugError(.unknownDataType, context(), "datatype \(datatype) is not allowed for a property")
        default:
            return PropertyValue(datatype: datatype, value: try MetricValue(wire: wire, as: datatype, context()))
        }
    }

    /// Decodes a basic value member into the column or parameter type.
    private static func basic(_ wire: UntypedValue?, _ type: DataType?,
                              _ context: @autoclosure () -> String) throws(SparkplugError) -> MetricValue? {
        guard let wire else { return nil }
        guard let type else { return .untyped(wire) }
        return try MetricValue(wire: wire, as: type, context())
    }

    private static func dataSet(_ d: PBDataSet, _ context: @autoclosure () -> String) throws(SparkplugError) -> DataSet {
        guard d.n_columns == d.n_types else {
            throw SparkplugError(.invalidDataSet, context(), "\(d.n_columns) column names but \(d.n_types) column types")
        }
        if d.has_num_of_columns != 0, d.num_of_columns != UInt64(d.n_columns) {
            throw SparkplugError(.invalidDataSet, context(),
                                 "num_of_columns is \(d.num_of_columns) but \(d.n_columns) columns are named")
        }
        var columns: [String] = []
        var types: [DataType] = []
        for index in 0..<d.n_columns {
            columns.append(string(d.columns[index]) ?? "")
            let type = try dataType(d.types[index], "\(context()) column \(index)")
            guard type.isBasic else {
                throw SparkplugError(.invalidDataSet, "\(context()) column \"\(columns[index])\"",
                                     "column type \(type) is not a basic type (Int8...UUID)")
            }
            types.append(type)
        }
        let rows = try each(d.rows, d.n_rows) { (rowIndex, row) throws(SparkplugError) -> [MetricValue?] in
            guard row.n_elements == columns.count else {
                throw SparkplugError(.invalidDataSet, "\(context()) row \(rowIndex)",
                                     "\(row.n_elements) cells for \(columns.count) columns")
            }
            return try each(row.elements, row.n_elements) { (column, v) throws(SparkplugError) -> MetricValue? in
                func cellContext() -> String { "\(context()) row \(rowIndex) column \"\(columns[column])\"" }
                let wire: UntypedValue?
                switch v.value_case {
                case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE__NOT_SET: wire = nil
                case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_INT_VALUE: wire = .int(v.int_value)
                case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_LONG_VALUE: wire = .long(v.long_value)
                case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_FLOAT_VALUE: wire = .float(v.float_value)
                case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_DOUBLE_VALUE: wire = .double(v.double_value)
                case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_BOOLEAN_VALUE: wire = .boolean(v.boolean_value != 0)
                case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_STRING_VALUE: wire = string(v.string_value).map(UntypedValue.string)
                default: throw SparkplugError(.invalidDataSet, cellContext(), "extension values are not supported")
                }
                return try basic(wire, types[column], cellContext())
            }
        }
        return DataSet(columns: columns, types: types, rows: rows)
    }

    private static func template(_ t: PBTemplate, _ context: @autoclosure () -> String) throws(SparkplugError) -> Template {
        var template = Template(version: string(t.version), templateRef: string(t.template_ref),
                                isDefinition: t.has_is_definition != 0 && t.is_definition != 0)
        try ProtobufCEncoder.checkRules(template, context())
        template.metrics = try metrics(t.metrics, t.n_metrics, "\(context()) > ")
        template.parameters = try each(t.parameters, t.n_parameters) { (index, p) throws(SparkplugError) in
            let name = string(p.name)
            func pContext() -> String { "\(context()) parameter \"\(name ?? "#\(index)")\"" }
            let type = p.has_type != 0 ? try dataType(p.type, pContext()) : nil
            if let type, !type.isBasic {
                throw SparkplugError(.invalidTemplate, pContext(), "parameter type \(type) is not a basic type")
            }
            let wire: UntypedValue?
            switch p.value_case {
            case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE__NOT_SET: wire = nil
            case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_INT_VALUE: wire = .int(p.int_value)
            case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_LONG_VALUE: wire = .long(p.long_value)
            case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_FLOAT_VALUE: wire = .float(p.float_value)
            case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_DOUBLE_VALUE: wire = .double(p.double_value)
            case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_BOOLEAN_VALUE: wire = .boolean(p.boolean_value != 0)
            case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_STRING_VALUE: wire = string(p.string_value).map(UntypedValue.string)
            default: throw SparkplugError(.invalidTemplate, pContext(), "extension values are not supported")
            }
            return Template.Parameter(name: name, datatype: type, value: try basic(wire, type, pContext()))
        }
        return template
    }
}
