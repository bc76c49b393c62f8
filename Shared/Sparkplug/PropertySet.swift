/// Metric properties (Sparkplug `PropertySet`): ordered key/value pairs.
public struct PropertySet: Sendable, Equatable {
    /// One property.
    public struct Entry: Sendable, Equatable {
        /// Property name (`engUnit`, `Quality`, ...).
        public var key: String
        /// Property value.
        public var value: PropertyValue

        /// Creates a property.
        public init(key: String, value: PropertyValue) {
            self.key = key
            self.value = value
        }
    }

    /// The properties, in wire order.
    public var entries: [Entry]

    /// Creates a property set.
    public init(_ entries: [Entry] = []) {
        self.entries = entries
    }

    /// The first property named `key`; setting replaces it or appends a new one.
    public subscript(key: String) -> PropertyValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    /// The well-known `Quality` property (Int32: 0 bad, 192 good, 500 stale); nil when absent or
    /// not one of those numbers.
    public var quality: Quality? {
        get {
            guard case .int32(let raw)? = self["Quality"]?.value else { return nil }
            return Quality(rawValue: raw)
        }
        set { self["Quality"] = newValue.map { PropertyValue(.int32($0.rawValue)) } }
    }

    /// The engineering unit, in the `engUnit` String property Ignition and Tahu use.
    public var engineeringUnit: String? {
        get {
            switch self["engUnit"]?.value {
            case .string(let unit)?, .text(let unit)?: unit
            default: nil
            }
        }
        set { self["engUnit"] = newValue.map { PropertyValue(.string($0)) } }
    }
}

/// Sparkplug's quality codes, carried in the Int32 `Quality` property.
public enum Quality: Int32, Sendable {
    case bad = 0
    case good = 192
    case stale = 500
}

/// One property value (Sparkplug `PropertyValue`): a typed value, or null.
public struct PropertyValue: Sendable, Equatable {
    /// The DataType number on the wire; required in BIRTH.
    public var datatype: DataType?
    /// The value; nil means null (`is_null` on the wire).
    public var value: MetricValue?

    /// A typed property value (its datatype is the value's).
    public init(_ value: MetricValue) {
        self.datatype = value.datatype
        self.value = value
    }

    /// A property value with an explicit type, or a null of that type.
    public init(datatype: DataType?, value: MetricValue?) {
        self.datatype = datatype
        self.value = value
    }
}
