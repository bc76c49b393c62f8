/// What a user may do. Roles are ordered: an admin can do everything an operator can, an operator
/// everything a viewer can.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads everything.
    case viewer
    /// Runs production: work orders, alarm acknowledgement, downtime classification.
    case `operator`
    /// Manages users, products, imports and tokens.
    case admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// The authenticated caller of a request.
public struct Principal: Sendable, Equatable {
    public let user: String
    public let role: Role
    /// `session` or `token:<id>`: how the caller authenticated, for the audit log.
    public let via: String
}
