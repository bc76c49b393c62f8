#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CProtobufC
import CSparkplugB

typealias PBPayload = Org__Eclipse__Tahu__Protobuf__Payload
typealias PBMetric = Org__Eclipse__Tahu__Protobuf__Payload__Metric
typealias PBMetaData = Org__Eclipse__Tahu__Protobuf__Payload__MetaData
typealias PBPropertySet = Org__Eclipse__Tahu__Protobuf__Payload__PropertySet
typealias PBPropertySetList = Org__Eclipse__Tahu__Protobuf__Payload__PropertySetList
typealias PBPropertyValue = Org__Eclipse__Tahu__Protobuf__Payload__PropertyValue
typealias PBDataSet = Org__Eclipse__Tahu__Protobuf__Payload__DataSet
typealias PBRow = Org__Eclipse__Tahu__Protobuf__Payload__DataSet__Row
typealias PBDataSetValue = Org__Eclipse__Tahu__Protobuf__Payload__DataSet__DataSetValue
typealias PBTemplate = Org__Eclipse__Tahu__Protobuf__Payload__Template
typealias PBParameter = Org__Eclipse__Tahu__Protobuf__Payload__Template__Parameter

/// Owns every C allocation of one encode: the protobuf-c message tree points into it until
/// `pack` has run, and `deinit` frees it all at once.
final class ProtobufCArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    /// Room for a typical DATA message (payload, metric array, a few dozen metrics) without regrowing.
    init() {
        allocations.reserveCapacity(64)
    }

    deinit {
        for pointer in allocations { free(pointer) }
    }

    /// Zeroed storage for `count` values (at least one, so calloc never returns a valid NULL).
    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        guard let raw = calloc(max(count, 1), MemoryLayout<T>.stride) else {
            // Out of memory while building a message: nothing sensible is left to do.
            preconditionFailure("calloc failed for \(count) x \(T.self)")
        }
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NUL-terminated copy; strings with an embedded NUL cannot be carried by protobuf-c.
    func string(_ value: String, _ context: @autoclosure () -> String) throws(SparkplugError) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(value.utf8)
        guard !utf8.contains(0) else {
            throw SparkplugError(.unencodable, context(), "string contains a NUL byte")
        }
        let pointer = allocate(CChar.self, count: utf8.count + 1)
        utf8.withUnsafeBytes { UnsafeMutableRawPointer(pointer).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return pointer
    }

    /// A copy of `bytes` as protobuf-c binary data.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let pointer = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: source.count) }
        }
        return ProtobufCBinaryData(len: bytes.count, data: pointer)
    }

    /// An array of pointers to freshly built messages.
    func messages<Element, Message>(_ elements: [Element],
                                    _ build: (Int, Element) throws(SparkplugError) -> UnsafeMutablePointer<Message>)
        throws(SparkplugError) -> UnsafeMutablePointer<UnsafeMutablePointer<Message>?> {
        let array = allocate(UnsafeMutablePointer<Message>?.self, count: elements.count)
        // Index access borrows each element; enumerated() would copy (and retain) every metric.
        for index in elements.indices {
            array[index] = try build(index, elements[index])
        }
        return array
    }
}

/// Swift values -> protobuf-c message tree -> bytes.
enum ProtobufCEncoder {
    static func encode(_ payload: Payload) throws(SparkplugError) -> [UInt8] {
        let arena = ProtobufCArena()
        let message = arena.allocate(PBPayload.self)
        org__eclipse__tahu__protobuf__payload__init(message)
        if let timestamp = payload.timestamp {
            message.pointee.has_timestamp = 1
            message.pointee.timestamp = timestamp
        }
        if let seq = payload.seq {
            message.pointee.has_seq = 1
            message.pointee.seq = seq
        }
        if let uuid = payload.uuid { message.pointee.uuid = try arena.string(uuid, "payload uuid") }
        if let body = payload.body {
            message.pointee.has_body = 1
            message.pointee.body = arena.binary(body)
        }
        message.pointee.n_metrics = payload.metrics.count
        message.pointee.metrics = try arena.messages(payload.metrics) { (index, metric) throws(SparkplugError) in
            try Self.metric(metric, metric.label(index), arena)
        }
        let size = org__eclipse__tahu__protobuf__payload__get_packed_size(message)
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBufferPointer {
            org__eclipse__tahu__protobuf__payload__pack(message, $0.baseAddress)
        }
        precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
        return bytes
    }

    /// Checks a metric's datatype against its value and returns the wire member to send.
    private static func checkedWire(_ datatype: DataType?, _ value: MetricValue,
                                    _ context: @autoclosure () -> String) throws(SparkplugError) -> UntypedValue {
        guard let datatype else { return try value.wire(context()) }
        return try value.typed(as: datatype, context()).wire(context())
    }

    static func metric(_ metric: Metric, _ context: @autoclosure () -> String,
                       _ arena: ProtobufCArena) throws(SparkplugError) -> UnsafeMutablePointer<PBMetric> {
        let m = arena.allocate(PBMetric.self)
        org__eclipse__tahu__protobuf__payload__metric__init(m)
        if let name = metric.name { m.pointee.name = try arena.string(name, context()) }
        if let alias = metric.alias { m.pointee.has_alias = 1; m.pointee.alias = alias }
        if let timestamp = metric.timestamp { m.pointee.has_timestamp = 1; m.pointee.timestamp = timestamp }
        if let datatype = metric.datatype { m.pointee.has_datatype = 1; m.pointee.datatype = datatype.rawValue }
        if metric.isHistorical { m.pointee.has_is_historical = 1; m.pointee.is_historical = 1 }
        if metric.isTransient { m.pointee.has_is_transient = 1; m.pointee.is_transient = 1 }
        if metric.isNull { m.pointee.has_is_null = 1; m.pointee.is_null = 1 }
        if let metadata = metric.metadata { m.pointee.metadata = try self.metadata(metadata, context(), arena) }
        if let properties = metric.properties {
            m.pointee.properties = try propertySet(properties, "\(context()) properties", arena)
        }
        guard let value = metric.value else { return m }
        if metric.isNull {
            throw SparkplugError(.valueMismatch, context(), "a null metric (isNull) cannot carry a value")
        }
        switch try checkedWire(metric.datatype, value, context()) {
        case .int(let v): m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_INT_VALUE; m.pointee.int_value = v
        case .long(let v): m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_LONG_VALUE; m.pointee.long_value = v
        case .float(let v): m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_FLOAT_VALUE; m.pointee.float_value = v
        case .double(let v): m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE; m.pointee.double_value = v
        case .boolean(let v): m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE; m.pointee.boolean_value = v ? 1 : 0
        case .string(let v):
            m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_STRING_VALUE
            m.pointee.string_value = try arena.string(v, context())
        case .bytes(let v):
            m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_BYTES_VALUE
            m.pointee.bytes_value = arena.binary(v)
        case .dataSet(let v):
            m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_DATASET_VALUE
            m.pointee.dataset_value = try dataSet(v, "\(context()) dataset", arena)
        case .template(let v):
            m.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_TEMPLATE_VALUE
            m.pointee.template_value = try template(v, "\(context()) template", arena)
        case .propertySet, .propertySetList:
            throw SparkplugError(.valueMismatch, context(),
                                 "PropertySet values exist only inside properties, not as a metric value")
        }
        return m
    }

    static func metadata(_ metadata: MetaData, _ outer: @autoclosure () -> String,
                         _ arena: ProtobufCArena) throws(SparkplugError) -> UnsafeMutablePointer<PBMetaData> {
        let d = arena.allocate(PBMetaData.self)
        org__eclipse__tahu__protobuf__payload__meta_data__init(d)
        func context() -> String { "\(outer()) metadata" }
        if let v = metadata.isMultiPart { d.pointee.has_is_multi_part = 1; d.pointee.is_multi_part = v ? 1 : 0 }
        if let v = metadata.contentType { d.pointee.content_type = try arena.string(v, context()) }
        if let v = metadata.size { d.pointee.has_size = 1; d.pointee.size = v }
        if let v = metadata.seq { d.pointee.has_seq = 1; d.pointee.seq = v }
        if let v = metadata.fileName { d.pointee.file_name = try arena.string(v, context()) }
        if let v = metadata.fileType { d.pointee.file_type = try arena.string(v, context()) }
        if let v = metadata.md5 { d.pointee.md5 = try arena.string(v, context()) }
        if let v = metadata.description { d.pointee.description = try arena.string(v, context()) }
        return d
    }

    static func propertySet(_ set: PropertySet, _ context: @autoclosure () -> String,
                            _ arena: ProtobufCArena) throws(SparkplugError) -> UnsafeMutablePointer<PBPropertySet> {
        let s = arena.allocate(PBPropertySet.self)
        org__eclipse__tahu__protobuf__payload__property_set__init(s)
        s.pointee.n_keys = set.entries.count
        s.pointee.keys = arena.allocate(UnsafeMutablePointer<CChar>?.self, count: set.entries.count)
        for (index, entry) in set.entries.enumerated() {
            s.pointee.keys[index] = try arena.string(entry.key, context())
        }
        s.pointee.n_values = set.entries.count
        s.pointee.values = try arena.messages(set.entries) { (_, entry) throws(SparkplugError) in
            try Self.propertyValue(entry.value, "\(context()) \"\(entry.key)\"", arena)
        }
        return s
    }

    static func propertyValue(_ property: PropertyValue, _ context: @autoclosure () -> String,
                              _ arena: ProtobufCArena) throws(SparkplugError) -> UnsafeMutablePointer<PBPropertyValue> {
        let p = arena.allocate(PBPropertyValue.self)
        org__eclipse__tahu__protobuf__payload__property_value__init(p)
        if let datatype = property.datatype { p.pointee.has_type = 1; p.pointee.type = datatype.rawValue }
        guard let value = property.value else {
            p.pointee.has_is_null = 1
            p.pointee.is_null = 1
            return p
        }
        switch try checkedWire(property.datatype, value, context()) {
        case .int(let v): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_INT_VALUE; p.pointee.int_value = v
        case .long(let v): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_LONG_VALUE; p.pointee.long_value = v
        case .float(let v): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_FLOAT_VALUE; p.pointee.float_value = v
        case .double(let v): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_DOUBLE_VALUE; p.pointee.double_value = v
        case .boolean(let v): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_BOOLEAN_VALUE; p.pointee.boolean_value = v ? 1 : 0
        case .string(let v):
            p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_STRING_VALUE
            p.pointee.string_value = try arena.string(v, context())
        case .propertySet(let v):
            p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_PROPERTYSET_VALUE
            p.pointee.propertyset_value = try propertySet(v, context(), arena)
        case .propertySetList(let sets):
            let list = arena.allocate(PBPropertySetList.self)
            org__eclipse__tahu__protobuf__payload__property_set_list__init(list)
            list.pointee.n_propertyset = sets.count
            list.pointee.propertyset = try arena.messages(sets) { (index, set) throws(SparkplugError) in
                try Self.propertySet(set, "\(context())[\(index)]", arena)
            }
            p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_PROPERTYSETS_VALUE
            p.pointee.propertysets_value = list
        case .bytes, .dataSet, .template:
            throw SparkplugError(.valueMismatch, context(),
                                 "a property value cannot be \(value.datatype?.description ?? "raw bytes")")
        }
        return p
    }

    static func dataSet(_ set: DataSet, _ context: @autoclosure () -> String,
                        _ arena: ProtobufCArena) throws(SparkplugError) -> UnsafeMutablePointer<PBDataSet> {
        guard set.columns.count == set.types.count else {
            throw SparkplugError(.invalidDataSet, context(),
                                 "\(set.columns.count) column names but \(set.types.count) column types")
        }
        for type in set.types where !type.isBasic {
            throw SparkplugError(.invalidDataSet, context(), "column type \(type) is not a basic type (Int8...UUID)")
        }
        let d = arena.allocate(PBDataSet.self)
        org__eclipse__tahu__protobuf__payload__data_set__init(d)
        d.pointee.has_num_of_columns = 1
        d.pointee.num_of_columns = UInt64(set.columns.count)
        d.pointee.n_columns = set.columns.count
        d.pointee.columns = arena.allocate(UnsafeMutablePointer<CChar>?.self, count: set.columns.count)
        for (index, column) in set.columns.enumerated() {
            d.pointee.columns[index] = try arena.string(column, context())
        }
        d.pointee.n_types = set.types.count
        d.pointee.types = arena.allocate(UInt32.self, count: set.types.count)
        for (index, type) in set.types.enumerated() { d.pointee.types[index] = type.rawValue }
        d.pointee.n_rows = set.rows.count
        d.pointee.rows = try arena.messages(set.rows) { (rowIndex, row) throws(SparkplugError) in
            guard row.count == set.columns.count else {
                throw SparkplugError(.invalidDataSet, "\(context()) row \(rowIndex)",
                                     "\(row.count) cells for \(set.columns.count) columns")
            }
            let r = arena.allocate(PBRow.self)
            org__eclipse__tahu__protobuf__payload__data_set__row__init(r)
            r.pointee.n_elements = row.count
            r.pointee.elements = try arena.messages(row) { (column, cell) throws(SparkplugError) in
                func cellContext() -> String { "\(context()) row \(rowIndex) column \"\(set.columns[column])\"" }
                let v = arena.allocate(PBDataSetValue.self)
                org__eclipse__tahu__protobuf__payload__data_set__data_set_value__init(v)
                guard let cell else { return v }
                switch try checkedWire(set.types[column], cell, cellContext()) {
                case .int(let x): v.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_INT_VALUE; v.pointee.int_value = x
                case .long(let x): v.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_LONG_VALUE; v.pointee.long_value = x
                case .float(let x): v.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_FLOAT_VALUE; v.pointee.float_value = x
                case .double(let x): v.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_DOUBLE_VALUE; v.pointee.double_value = x
                case .boolean(let x): v.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_BOOLEAN_VALUE; v.pointee.boolean_value = x ? 1 : 0
                case .string(let x):
                    v.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__DATA_SET__DATA_SET_VALUE__VALUE_STRING_VALUE
                    v.pointee.string_value = try arena.string(x, cellContext())
                default:
                    throw SparkplugError(.invalidDataSet, cellContext(), "cell is not a basic value")
                }
                return v
            }
            return r
        }
        return d
    }

    static func template(_ template: Template, _ context: @autoclosure () -> String,
                         _ arena: ProtobufCArena) throws(SparkplugError) -> UnsafeMutablePointer<PBTemplate> {
        try checkRules(template, context())
        let t = arena.allocate(PBTemplate.self)
        org__eclipse__tahu__protobuf__payload__template__init(t)
        if let version = template.version { t.pointee.version = try arena.string(version, context()) }
        if let ref = template.templateRef { t.pointee.template_ref = try arena.string(ref, context()) }
        t.pointee.has_is_definition = 1
        t.pointee.is_definition = template.isDefinition ? 1 : 0
        t.pointee.n_metrics = template.metrics.count
        t.pointee.metrics = try arena.messages(template.metrics) { (index, metric) throws(SparkplugError) in
            try Self.metric(metric, "\(context()) > \(metric.label(index))", arena)
        }
        t.pointee.n_parameters = template.parameters.count
        t.pointee.parameters = try arena.messages(template.parameters) { (index, parameter) throws(SparkplugError) in
            func pContext() -> String { "\(context()) parameter \"\(parameter.name ?? "#\(index)")\"" }
            let p = arena.allocate(PBParameter.self)
            org__eclipse__tahu__protobuf__payload__template__parameter__init(p)
            if let name = parameter.name { p.pointee.name = try arena.string(name, pContext()) }
            if let type = parameter.datatype { p.pointee.has_type = 1; p.pointee.type = type.rawValue }
            guard let value = parameter.value else { return p }
            switch try checkedWire(parameter.datatype, value, pContext()) {
            case .int(let x): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_INT_VALUE; p.pointee.int_value = x
            case .long(let x): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_LONG_VALUE; p.pointee.long_value = x
            case .float(let x): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_FLOAT_VALUE; p.pointee.float_value = x
            case .double(let x): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_DOUBLE_VALUE; p.pointee.double_value = x
            case .boolean(let x): p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_BOOLEAN_VALUE; p.pointee.boolean_value = x ? 1 : 0
            case .string(let x):
                p.pointee.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__PARAMETER__VALUE_STRING_VALUE
                p.pointee.string_value = try arena.string(x, pContext())
            default:
                throw SparkplugError(.invalidTemplate, pContext(), "a parameter must be a basic value")
            }
            return p
        }
        return t
    }

    /// Sparkplug 3.0: a definition has no template_ref; an instance names its definition.
    static func checkRules(_ template: Template, _ context: @autoclosure () -> String) throws(SparkplugError) {
        if template.isDefinition, let ref = template.templateRef {
            throw SparkplugError(.invalidTemplate, context(), "a definition must not have template_ref (\"\(ref)\")")
        }
        if !template.isDefinition, template.templateRef == nil {
            throw SparkplugError(.invalidTemplate, context(), "an instance needs template_ref naming its definition")
        }
    }
}
