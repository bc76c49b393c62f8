/// The alias and datatype of every metric an edge node and its devices declared in their BIRTHs.
/// Sparkplug 3.0: aliases are unique across the node and all its devices; names are unique per
/// node or device. An NBIRTH starts a new table; a DBIRTH replaces that device's metrics.
public struct AliasTable: Sendable, Equatable {
    /// What a BIRTH declared for one metric.
    public struct Entry: Sendable, Equatable {
        /// The device that declared it; nil for a node metric.
        public let device: String?
        /// Metric name as declared in the BIRTH.
        public let name: String
        /// Datatype declared in the BIRTH; DATA values are read as this type.
        public let datatype: DataType
        /// Alias, when the BIRTH gave one.
        public let alias: UInt64?
    }

    private struct NameKey: Hashable, Sendable {
        let device: String?
        let name: String
    }

    private var byAlias: [UInt64: Entry] = [:]
    private var byName: [NameKey: Entry] = [:]

    /// An empty table (no BIRTH seen yet).
    public init() {}

    /// Records a BIRTH: an NBIRTH when `device` is nil (clearing everything from the old session),
    /// a DBIRTH of `device` otherwise. Throws, leaving the table unchanged, when a metric has no
    /// name or datatype, or an alias or name is declared twice.
    public mutating func define(birth: Payload, device: String? = nil) throws(SparkplugError) {
        var next = self
        if device == nil {
            next = AliasTable()
        } else {
            next.byAlias = next.byAlias.filter { $0.value.device != device }
            next.byName = next.byName.filter { $0.key.device != device }
        }
        let origin = device.map { "DBIRTH of device \"\($0)\"" } ?? "NBIRTH"
        for (index, metric) in birth.metrics.enumerated() {
            let context = "\(origin) \(metric.label(index))"
            guard let name = metric.name else {
                throw SparkplugError(.unknownMetric, context, "a BIRTH metric needs a name")
            }
            guard let datatype = metric.datatype else {
                throw SparkplugError(.unknownMetric, context, "a BIRTH metric needs a datatype")
            }
            let entry = Entry(device: device, name: name, datatype: datatype, alias: metric.alias)
            let key = NameKey(device: device, name: name)
            guard next.byName[key] == nil else {
                throw SparkplugError(.duplicateAlias, context, "name declared twice in one BIRTH")
            }
            next.byName[key] = entry
            if let alias = metric.alias {
                if let other = next.byAlias[alias] {
                    let owner = other.device.map { "device \"\($0)\"" } ?? "the node"
                    throw SparkplugError(.duplicateAlias, context,
                                         "alias \(alias) is already used by \"\(other.name)\" of \(owner)")
                }
                next.byAlias[alias] = entry
            }
        }
        self = next
    }

    /// The entry for `alias`, if a BIRTH declared it.
    public func entry(alias: UInt64) -> Entry? {
        byAlias[alias]
    }

    /// The entry for a metric `name` of the node (`device` nil) or of a device.
    public func entry(name: String, device: String? = nil) -> Entry? {
        byName[NameKey(device: device, name: name)]
    }

    /// Completes a DATA or CMD metric from the BIRTH: fills in name and datatype and types an
    /// `.untyped` value. Throws for an unknown alias or name, an alias of another device, or a
    /// value that does not fit the declared datatype.
    public func resolve(_ metric: Metric, device: String? = nil) throws(SparkplugError) -> Metric {
        let entry: Entry
        if let alias = metric.alias {
            guard let found = byAlias[alias] else {
                throw SparkplugError(.unknownAlias, "metric alias \(alias)", "no BIRTH declared this alias")
            }
            guard found.device == device else {
                let owner = found.device.map { "device \"\($0)\"" } ?? "the node"
                throw SparkplugError(.unknownAlias, "metric alias \(alias)",
                                     "alias belongs to \"\(found.name)\" of \(owner)")
            }
            entry = found
        } else if let name = metric.name {
            guard let found = byName[NameKey(device: device, name: name)] else {
                throw SparkplugError(.unknownMetric, "metric \"\(name)\"", "no BIRTH declared this metric")
            }
            entry = found
        } else {
            throw SparkplugError(.unknownMetric, "metric", "has neither name nor alias")
        }
        var resolved = metric
        resolved.name = entry.name
        if let datatype = metric.datatype, datatype != entry.datatype {
            throw SparkplugError(.valueMismatch, "metric \"\(entry.name)\"",
                                 "datatype \(datatype) differs from \(entry.datatype) in the BIRTH")
        }
        resolved.datatype = entry.datatype
        resolved.value = try metric.value?.typed(as: entry.datatype, "metric \"\(entry.name)\"")
        return resolved
    }
}
