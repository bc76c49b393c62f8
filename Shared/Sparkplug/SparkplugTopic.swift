/// A Sparkplug B 3.0 topic: `spBv1.0/<group>/<VERB>/<edge>[/<device>]` or the host
/// `spBv1.0/STATE/<host_id>`. Built only through validating initialisers, so every value formats
/// to a topic other Sparkplug software accepts.
public struct SparkplugTopic: Hashable, Sendable, CustomStringConvertible {
    /// The namespace element of every Sparkplug B topic.
    public static let namespace = "spBv1.0"

    /// The message verbs of edge nodes and their devices.
    public enum Verb: String, Sendable, CaseIterable {
        case nbirth = "NBIRTH", ndeath = "NDEATH", dbirth = "DBIRTH", ddeath = "DDEATH"
        case ndata = "NDATA", ddata = "DDATA", ncmd = "NCMD", dcmd = "DCMD"

        /// Device verbs carry a device id; node verbs must not.
        public var isDeviceVerb: Bool {
            switch self {
            case .dbirth, .ddeath, .ddata, .dcmd: true
            case .nbirth, .ndeath, .ndata, .ncmd: false
            }
        }
    }

    /// What the topic addresses.
    public enum Kind: Hashable, Sendable {
        /// An edge node message; `device` is set exactly for D* verbs.
        case edge(group: String, verb: Verb, edgeNode: String, device: String?)
        /// A host application's STATE (birth/death certificate).
        case state(hostID: String)
    }

    /// The validated parts of the topic.
    public let kind: Kind

    /// An edge node or device topic. Throws when an id is empty or contains `+ / #`, or when the
    /// device id is missing for a D* verb or present for an N* verb.
    public init(group: String, verb: Verb, edgeNode: String, device: String? = nil) throws(SparkplugError) {
        try Self.check(group, "group id")
        try Self.check(edgeNode, "edge node id")
        if verb.isDeviceVerb {
            guard let device else {
                throw SparkplugError(.invalidTopic, "\(verb.rawValue) topic", "a device id is required for \(verb.rawValue)")
            }
            try Self.check(device, "device id")
        } else if device != nil {
            throw SparkplugError(.invalidTopic, "\(verb.rawValue) topic", "\(verb.rawValue) takes no device id")
        }
        kind = .edge(group: group, verb: verb, edgeNode: edgeNode, device: device)
    }

    /// The STATE topic of host application `hostID`.
    public init(stateOf hostID: String) throws(SparkplugError) {
        try Self.check(hostID, "host id")
        kind = .state(hostID: hostID)
    }

    /// Parses a topic string; nil when it is not a valid Sparkplug B 3.0 topic.
    public init?(parsing topic: String) {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0] == Self.namespace else { return nil }
        if parts[1] == "STATE" {
            guard parts.count == 3, let topic = try? SparkplugTopic(stateOf: parts[2]) else { return nil }
            self = topic
            return
        }
        guard parts.count == 4 || parts.count == 5, let verb = Verb(rawValue: parts[2]),
              let topic = try? SparkplugTopic(group: parts[1], verb: verb, edgeNode: parts[3],
                                              device: parts.count == 5 ? parts[4] : nil)
        else { return nil }
        self = topic
    }

    /// The topic string.
    public var description: String {
        switch kind {
        case .state(let hostID):
            "\(Self.namespace)/STATE/\(hostID)"
        case .edge(let group, let verb, let edgeNode, let device?):
            "\(Self.namespace)/\(group)/\(verb.rawValue)/\(edgeNode)/\(device)"
        case .edge(let group, let verb, let edgeNode, nil):
            "\(Self.namespace)/\(group)/\(verb.rawValue)/\(edgeNode)"
        }
    }

    /// The verb of an edge topic; nil for STATE.
    public var verb: Verb? {
        if case .edge(_, let verb, _, _) = kind { return verb }
        return nil
    }

    /// Sparkplug 3.0 topic-structure: ids are non-empty UTF-8 without the MQTT separators and wildcards.
    private static func check(_ id: String, _ what: String) throws(SparkplugError) {
        guard !id.isEmpty else { throw SparkplugError(.invalidTopic, what, "must not be empty") }
        if let bad = id.first(where: { $0 == "+" || $0 == "/" || $0 == "#" }) {
            throw SparkplugError(.invalidTopic, what, "\"\(id)\" contains '\(bad)'; ids may not contain + / #")
        }
    }
}
