import Foundation

/// The downtime reason codes operators classify stops with: a tree read from a JSON file
/// (`--reason-tree`), or the built-in default. A node marked `planned` (and everything below it) is planned
/// downtime and leaves planned busy time, per ISO 22400.
///
/// ```json
/// {"reasons": [{"code": "MECH", "name": "Mechanical", "children": [{"code": "MECH-JAM", "name": "Jam"}]},
///              {"code": "BREAK", "name": "Scheduled break", "planned": true}]}
/// ```
public struct ReasonTree: Sendable, Codable, Equatable {
    /// One reason; codes are unique across the whole tree.
    public struct Node: Sendable, Codable, Equatable {
        public var code: String
        public var name: String
        public var planned: Bool?
        public var children: [Node]?

        public init(code: String, name: String, planned: Bool? = nil, children: [Node]? = nil) {
            self.code = code
            self.name = name
            self.planned = planned
            self.children = children
        }
    }

    public var reasons: [Node]
    /// code → planned (inherited from the ancestors).
    private var index: [String: Bool] = [:]

    private enum CodingKeys: String, CodingKey { case reasons }

    public init(reasons: [Node]) throws(APIError) {
        self.reasons = reasons
        try buildIndex()
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        reasons = try container.decode([Node].self, forKey: .reasons)
        try buildIndex()
    }

    private mutating func buildIndex() throws(APIError) {
        var index: [String: Bool] = [:]
        var stack: [(Node, Bool)] = reasons.map { ($0, $0.planned ?? false) }
        while let (node, planned) = stack.popLast() {
            guard !node.code.isEmpty else {
                throw APIError(.invalidConfiguration, "reason tree: reason \"\(node.name)\" has an empty code")
            }
            guard index[node.code] == nil else {
                throw APIError(.invalidConfiguration, "reason tree: code \"\(node.code)\" appears twice; codes must be unique")
            }
            index[node.code] = planned
            for child in node.children ?? [] { stack.append((child, planned || (child.planned ?? false))) }
        }
        self.index = index
    }

    /// Whether `code` is in the tree, and if so whether it is planned.
    public func planned(_ code: String) -> Bool? { index[code] }

    /// Every code, sorted, for error messages.
    public var codes: [String] { index.keys.sorted() }

    /// Reads a tree from a JSON file; the error names the file and what is wrong.
    public static func load(path: String) throws(APIError) -> ReasonTree {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw APIError(.invalidConfiguration, "--reason-tree \"\(path)\" cannot be read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(ReasonTree.self, from: data)
        } catch let error as APIError {
            throw APIError(.invalidConfiguration, "--reason-tree \"\(path)\": \(error.message)")
        } catch {
            throw APIError(.invalidConfiguration,
                           "--reason-tree \"\(path)\" is not a reason tree ({\"reasons\":[{\"code\",\"name\",\"planned\"?,\"children\"?}]}): \(error)")
        }
    }

    /// A tree a plant can start with: the classic six big losses, split where operators can tell.
    public static let standard: ReasonTree = {
        let nodes: [Node] = [
            Node(code: "BREAKDOWN", name: "Equipment failure", children: [
                Node(code: "BREAKDOWN-MECH", name: "Mechanical"),
                Node(code: "BREAKDOWN-ELEC", name: "Electrical"),
                Node(code: "BREAKDOWN-TOOL", name: "Tool breakage"),
            ]),
            Node(code: "SETUP", name: "Setup and adjustment", children: [
                Node(code: "SETUP-CHANGEOVER", name: "Product changeover"),
                Node(code: "SETUP-ADJUST", name: "Adjustment"),
            ]),
            Node(code: "MATERIAL", name: "Material shortage"),
            Node(code: "QUALITY", name: "Quality hold"),
            Node(code: "OPERATOR", name: "No operator"),
            Node(code: "PLANNED", name: "Planned stop", planned: true, children: [
                Node(code: "PLANNED-BREAK", name: "Scheduled break"),
                Node(code: "PLANNED-MAINTENANCE", name: "Planned maintenance"),
                Node(code: "PLANNED-NO-ORDER", name: "No order scheduled"),
            ]),
        ]
        // The literal above has unique codes; a failure here would be a programming error caught by tests.
        return (try? ReasonTree(reasons: nodes)) ?? ReasonTree(unchecked: nodes)
    }()

    private init(unchecked reasons: [Node]) {
        self.reasons = reasons
    }
}
