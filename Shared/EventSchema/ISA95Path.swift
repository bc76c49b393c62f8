/// An asset's place in the ISA-95 equipment hierarchy: enterprise/site/area/line/cell.
///
/// A path may stop at any level from site down (a site-wide event, a line's OEE), but it never skips one:
/// a line needs an area, a cell needs a line. Every name is one topic level (see `UNSTopic`), without
/// `/`, `+`, `#`, not starting with `_`, and not `value` or `event`.
/// Encodes as its string form, `"acme/plant1/press-area/line-1/press-3"`.
public struct ISA95Path: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The company, the root of the namespace below the prefix.
    public let enterprise: String
    /// A plant or other physical location of the enterprise.
    public let site: String
    /// A production area of the site.
    public let area: String?
    /// A production line (or work center) of the area.
    public let line: String?
    /// A work cell (one machine or station) of the line.
    public let cell: String?

    /// Names of the levels, in order, for messages.
    static let levelNames = ["enterprise", "site", "area", "line", "cell"]

    /// Creates a path, validating every name and that no level is skipped.
    public init(enterprise: String, site: String, area: String? = nil, line: String? = nil,
                cell: String? = nil) throws(EventSchemaError) {
        if line != nil && area == nil {
            throw EventSchemaError(.invalidPath, "ISA-95 path has line \"\(line ?? "")\" but no area")
        }
        if cell != nil && line == nil {
            throw EventSchemaError(.invalidPath, "ISA-95 path has cell \"\(cell ?? "")\" but no line")
        }
        let names = [enterprise, site, area, line, cell]
        for (name, level) in zip(names, Self.levelNames) {
            if let name { try TopicSegment.validateISA95(name, level: level) }
        }
        self.enterprise = enterprise
        self.site = site
        self.area = area
        self.line = line
        self.cell = cell
    }

    /// Creates a path from its levels in order (2 to 5 of them), validating each.
    public init(levels: [String]) throws(EventSchemaError) {
        guard (2...5).contains(levels.count) else {
            throw EventSchemaError(.invalidPath, "ISA-95 path \"\(levels.joined(separator: "/"))\" has "
                + "\(levels.count) levels; a path has 2 (enterprise/site) to 5 (…/area/line/cell)")
        }
        func level(_ index: Int) -> String? { index < levels.count ? levels[index] : nil }
        try self.init(enterprise: levels[0], site: levels[1], area: level(2), line: level(3), cell: level(4))
    }

    /// Parses `"acme/plant1/press-area/line-1/press-3"`; nil when it is not a valid path.
    public init?(parsing text: String) {
        guard let path = try? Self.parse(text) else { return nil }
        self = path
    }

    /// Parses like `init?(parsing:)`, throwing an error that says what is wrong.
    public static func parse(_ text: String) throws(EventSchemaError) -> ISA95Path {
        try ISA95Path(levels: text.split(separator: "/", omittingEmptySubsequences: false).map(String.init))
    }

    /// The names from enterprise down to the deepest level present.
    public var levels: [String] { [enterprise, site, area, line, cell].compactMap { $0 } }

    /// How many levels the path has: 2 (site) to 5 (cell).
    public var depth: Int { levels.count }

    /// The path one level up, or nil for a site (enterprise alone is not a path).
    public var parent: ISA95Path? {
        depth > 2 ? try? ISA95Path(levels: Array(levels.dropLast())) : nil
    }

    /// Whether `other` is this path or lies below it.
    public func contains(_ other: ISA95Path) -> Bool {
        other.depth >= depth && Array(other.levels.prefix(depth)) == levels
    }

    /// The path one level down; throws when this is already a cell or the name is invalid.
    public func appending(_ name: String) throws(EventSchemaError) -> ISA95Path {
        try ISA95Path(levels: levels + [name])
    }

    public var description: String { levels.joined(separator: "/") }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try Self.parse(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: error.message, underlyingError: error))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
