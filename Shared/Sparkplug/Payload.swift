/// One Sparkplug B payload: the raw protobuf bytes of every NBIRTH, NDATA, DCMD ... message
/// (STATE is JSON, see `HostState`). Presence is kept: `seq == nil` is not `seq == 0`.
public struct Payload: Sendable, Equatable {
    /// Send time, milliseconds since the Unix epoch, UTC.
    public var timestamp: UInt64?
    /// The metrics carried by the message.
    public var metrics: [Metric]
    /// Message sequence number 0...255; absent in NDEATH, NCMD and DCMD.
    public var seq: UInt64?
    /// Optional id describing the schema of `body`.
    public var uuid: String?
    /// Optional opaque application bytes.
    public var body: [UInt8]?

    /// Creates a payload; every field is optional on the wire.
    public init(timestamp: UInt64? = nil, metrics: [Metric] = [], seq: UInt64? = nil,
                uuid: String? = nil, body: [UInt8]? = nil) {
        self.timestamp = timestamp
        self.metrics = metrics
        self.seq = seq
        self.uuid = uuid
        self.body = body
    }

    /// The protobuf bytes of this payload (Eclipse Tahu schema), packed by protobuf-c.
    /// Throws when a metric's datatype and value disagree or a value cannot be represented.
    public func encode() throws(SparkplugError) -> [UInt8] {
        try ProtobufCEncoder.encode(self)
    }

    /// Decodes and validates protobuf bytes. Never traps on hostile input: every structural,
    /// type, range, UTF-8 and nesting problem is a `SparkplugError` naming the metric.
    public init(decoding bytes: [UInt8]) throws(SparkplugError) {
        self = try ProtobufCDecoder.decode(bytes)
    }
}

/// One Sparkplug metric. In a BIRTH it has a name, a datatype and a value (or `isNull`); in DATA and
/// CMD messages it is often an alias only, without datatype, and its value is `.untyped` until an
/// `AliasTable` resolves it.
public struct Metric: Sendable, Equatable {
    /// Metric name; `/` separates folders.
    public var name: String?
    /// Numeric stand-in for the name, defined in NBIRTH/DBIRTH, unique per edge node.
    public var alias: UInt64?
    /// Acquisition time, milliseconds since the Unix epoch, UTC.
    public var timestamp: UInt64?
    /// Required in BIRTH; should be left out (nil) in DATA and CMD.
    public var datatype: DataType?
    /// The value is historical and must not update the live tag (store-and-forward replay).
    public var isHistorical: Bool
    /// Consumers should not historize this value.
    public var isTransient: Bool
    /// The value is null; then `value` is nil.
    public var isNull: Bool
    /// Descriptive metadata (multi-part, file name, content type ...).
    public var metadata: MetaData?
    /// Metric properties (engineering unit, quality ...).
    public var properties: PropertySet?
    /// The value; typed when `datatype` is present, `.untyped` when it was left out on the wire.
    public var value: MetricValue?

    /// Creates a metric. Pass `datatype` in BIRTH messages; leave it nil in DATA and CMD.
    public init(name: String? = nil, alias: UInt64? = nil, timestamp: UInt64? = nil,
                datatype: DataType? = nil, value: MetricValue? = nil, isNull: Bool = false,
                isHistorical: Bool = false, isTransient: Bool = false,
                metadata: MetaData? = nil, properties: PropertySet? = nil) {
        self.name = name
        self.alias = alias
        self.timestamp = timestamp
        self.datatype = datatype
        self.value = value
        self.isNull = isNull
        self.isHistorical = isHistorical
        self.isTransient = isTransient
        self.metadata = metadata
        self.properties = properties
    }

    /// How errors name this metric: its name, else its alias, else its position.
    func label(_ index: Int) -> String {
        if let name { return "metric \"\(name)\"" }
        if let alias { return "metric alias \(alias)" }
        return "metric #\(index)"
    }
}

/// Descriptive metadata of a metric value (Sparkplug `Payload.MetaData`).
public struct MetaData: Sendable, Equatable {
    /// The value is one part of a multi-part bytes/file value.
    public var isMultiPart: Bool?
    /// Media type of the value.
    public var contentType: String?
    /// Size of the value (file, string, part).
    public var size: UInt64?
    /// Part number of a multi-part value (not the message seq).
    public var seq: UInt64?
    /// File name of a File value.
    public var fileName: String?
    /// File type or extension.
    public var fileType: String?
    /// MD5 of the data, as text.
    public var md5: String?
    /// Free text.
    public var description: String?

    /// Creates metadata; every field is optional.
    public init(isMultiPart: Bool? = nil, contentType: String? = nil, size: UInt64? = nil, seq: UInt64? = nil,
                fileName: String? = nil, fileType: String? = nil, md5: String? = nil,
                description: String? = nil) {
        self.isMultiPart = isMultiPart
        self.contentType = contentType
        self.size = size
        self.seq = seq
        self.fileName = fileName
        self.fileType = fileType
        self.md5 = md5
        self.description = description
    }
}

/// A table value (Sparkplug `DataSet`): named, typed columns and rows of cells.
public struct DataSet: Sendable, Equatable {
    /// Column names.
    public var columns: [String]
    /// One basic DataType (Int8 ... UUID) per column.
    public var types: [DataType]
    /// Rows of one cell per column; a nil cell has no value.
    public var rows: [[MetricValue?]]

    /// Creates a data set; encoding checks that columns, types and rows agree.
    public init(columns: [String], types: [DataType], rows: [[MetricValue?]] = []) {
        self.columns = columns
        self.types = types
        self.rows = rows
    }
}

/// A Sparkplug Template: a definition (in NBIRTH) or an instance referring to one.
public struct Template: Sendable, Equatable {
    /// A template parameter: a named basic value.
    public struct Parameter: Sendable, Equatable {
        /// Parameter name.
        public var name: String?
        /// A basic DataType; required for a typed value.
        public var datatype: DataType?
        /// The value; nil when none is set.
        public var value: MetricValue?

        /// Creates a parameter; `datatype` defaults to the value's type.
        public init(name: String?, datatype: DataType? = nil, value: MetricValue?) {
            self.name = name
            self.datatype = datatype ?? value?.datatype
            self.value = value
        }
    }

    /// Template version string.
    public var version: String?
    /// Member metrics.
    public var metrics: [Metric]
    /// Template parameters.
    public var parameters: [Parameter]
    /// For an instance: the name of its definition; nil in a definition.
    public var templateRef: String?
    /// True for a definition (NBIRTH only), false for an instance.
    public var isDefinition: Bool

    /// Creates a template; encoding checks the definition / instance rules.
    public init(version: String? = nil, metrics: [Metric] = [], parameters: [Parameter] = [],
                templateRef: String? = nil, isDefinition: Bool) {
        self.version = version
        self.metrics = metrics
        self.parameters = parameters
        self.templateRef = templateRef
        self.isDefinition = isDefinition
    }
}
