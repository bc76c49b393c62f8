import EventSchema
import Foundation
import Logging

/// The api's own store: users, tokens, sessions, audit log, products, work orders, and the read models
/// projected from UNS events. Every query is written once in SQL both engines accept (see `SQLBackend`).
public final class APIStore: Sendable {
    let backend: any SQLBackend
    let outboxPositions = OutboxPositions()

    /// Opens the store and applies the migrations.
    public static func open(_ location: StoreLocation, logger: Logger) async throws -> APIStore {
        let backend = try await location.open()
        do {
            try await backend.migrate(APIMigrations.all, logger: logger)
        } catch {
            await backend.close()
            throw error
        }
        return APIStore(backend: backend)
    }

    init(backend: any SQLBackend) {
        self.backend = backend
    }

    public func close() async { await backend.close() }

    // MARK: Users, sessions, tokens, audit

    /// Creates a user; `.conflict` if the name is taken.
    public func createUser(name: String, role: Role, password: String) async throws -> User {
        try Self.validateName(name, what: "user name")
        guard password.count >= PasswordHash.minimumPasswordLength else {
            throw APIError(.invalidParameter,
                           "password is \(password.count) characters; at least \(PasswordHash.minimumPasswordLength) are required")
        }
        let hash = try PasswordHash(hashing: password)
        let now = Millis.now()
        let inserted = try await backend.run(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            [.text(name), .text(role.rawValue), .text(hash.description), .integer(now)])
        guard inserted == 1 else { throw APIError(.conflict, "user \"\(name)\" already exists") }
        return User(name: name, role: role, createdAt: Millis.text(now))
    }

    /// Every user, by name.
    public func users() async throws -> [User] {
        try await backend.query("SELECT name, role, created_at FROM users ORDER BY name", []).map {
            User(name: $0[0].string ?? "", role: Role(rawValue: $0[1].string ?? "") ?? .viewer,
                 createdAt: Millis.text($0[2].int ?? 0))
        }
    }

    /// Deletes a user with their sessions and tokens.
    public func deleteUser(_ name: String) async throws {
        let counts = try await backend.transaction([
            ("DELETE FROM users WHERE name = ?", [.text(name)]),
            ("DELETE FROM sessions WHERE user_name = ?", [.text(name)]),
            ("DELETE FROM api_tokens WHERE user_name = ?", [.text(name)]),
        ])
        guard counts.first == 1 else { throw APIError.notFound("user", name) }
    }

    /// The user's role when `password` is theirs; nil otherwise (unknown users cost the same hash time).
    public func verifyPassword(user: String, password: String) async throws -> Role? {
        let rows = try await backend.query("SELECT role, password_hash FROM users WHERE name = ?", [.text(user)])
        guard let row = rows.first, let stored = row[1].string.flatMap(PasswordHash.init(stored:)) else {
            // Spend the same work as a real check so response time does not reveal which users exist.
            _ = try? PasswordHash(hashing: password).verify(password)
            return nil
        }
        return try stored.verify(password) ? Role(rawValue: row[0].string ?? "") : nil
    }

    /// Starts a session; returns the bearer secret (shown once) and its expiry.
    public func createSession(user: String, lifetime: Duration) async throws -> (secret: String, expiresAt: Int64) {
        let (secret, digest) = try BearerSecret.generate()
        let expires = Millis.now() + lifetime.components.seconds * 1000
        _ = try await backend.transaction([
            ("DELETE FROM sessions WHERE expires_at < ?", [.integer(Millis.now())]),
            ("INSERT INTO sessions (token_hash, user_name, expires_at) VALUES (?, ?, ?)",
             [.text(digest), .text(user), .integer(expires)]),
        ])
        return (secret, expires)
    }

    /// Ends the session whose secret digests to `digest`.
    public func deleteSession(digest: String) async throws {
        _ = try await backend.run("DELETE FROM sessions WHERE token_hash = ?", [.text(digest)])
    }

    /// The caller a bearer secret's digest stands for: a live session or an API token.
    public func principal(digest: String) async throws -> Principal? {
        let now = Millis.now()
        let sessions = try await backend.query("""
            SELECT u.name, u.role FROM sessions s JOIN users u ON u.name = s.user_name
            WHERE s.token_hash = ? AND s.expires_at > ?
            """, [.text(digest), .integer(now)])
        if let row = sessions.first, let role = Role(rawValue: row[1].string ?? "") {
            return Principal(user: row[0].string ?? "", role: role, via: "session")
        }
        let tokens = try await backend.query("""
            SELECT u.name, u.role, t.id FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.token_hash = ?
            """, [.text(digest)])
        if let row = tokens.first, let role = Role(rawValue: row[1].string ?? "") {
            let id = row[2].string ?? ""
            _ = try await backend.run("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [.integer(now), .text(id)])
            return Principal(user: row[0].string ?? "", role: role, via: "token:\(id)")
        }
        return nil
    }

    /// Creates an API token for `user`; the secret is returned once and only its digest is stored.
    public func createToken(user: String, name: String) async throws -> (token: APIToken, secret: String) {
        guard !name.isEmpty, name.count <= 100 else {
            throw APIError(.invalidParameter, "token name must be 1…100 characters, got \(name.count)")
        }
        let (secret, digest) = try BearerSecret.generate()
        let id = UUID().uuidString.lowercased()
        let now = Millis.now()
        _ = try await backend.run(
            "INSERT INTO api_tokens (id, user_name, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(id), .text(user), .text(name), .text(digest), .integer(now)])
        return (APIToken(id: id, name: name, user: user, createdAt: Millis.text(now), lastUsedAt: nil), secret)
    }

    /// Tokens of `user`, or of everyone when nil.
    public func tokens(user: String?) async throws -> [APIToken] {
        let rows = try await backend.query(
            "SELECT id, name, user_name, created_at, last_used_at FROM api_tokens"
                + (user == nil ? "" : " WHERE user_name = ?") + " ORDER BY created_at, id",
            user.map { [.text($0)] } ?? [])
        return rows.map {
            APIToken(id: $0[0].string ?? "", name: $0[1].string ?? "", user: $0[2].string ?? "",
                     createdAt: Millis.text($0[3].int ?? 0), lastUsedAt: Millis.text($0[4].int))
        }
    }

    /// Revokes a token; only its owner or an admin may (`user` nil = admin).
    public func deleteToken(id: String, user: String?) async throws {
        let count = try await backend.run(
            "DELETE FROM api_tokens WHERE id = ?" + (user == nil ? "" : " AND user_name = ?"),
            [.text(id)] + (user.map { [.text($0)] } ?? []))
        guard count == 1 else { throw APIError.notFound("token", id) }
    }

    /// Appends to the audit log.
    public func audit(user: String, action: String, target: String, detail: String = "") async throws {
        _ = try await backend.run(
            "INSERT INTO audit_log (id, ts, user_name, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(UUID().uuidString.lowercased()), .integer(Millis.now()), .text(user), .text(action),
             .text(target), .text(detail)])
    }

    /// The audit log, newest first.
    public func auditLog(limit: Int, offset: Int) async throws -> [AuditEntry] {
        try await backend.query(
            "SELECT id, ts, user_name, action, target, detail FROM audit_log ORDER BY ts DESC, id LIMIT ? OFFSET ?",
            [.integer(Int64(limit)), .integer(Int64(offset))]
        ).map {
            AuditEntry(id: $0[0].string ?? "", ts: Millis.text($0[1].int ?? 0), user: $0[2].string ?? "",
                       action: $0[3].string ?? "", target: $0[4].string ?? "", detail: $0[5].string ?? "")
        }
    }

    // MARK: Read models

    /// Records every level of `path` in the asset tree (idempotent).
    func registerAsset(_ path: ISA95Path) async throws {
        var statements: [(String, [SQLValue])] = []
        var levels: [String] = []
        for name in path.levels {
            let parent = levels.isEmpty ? SQLValue.null : .text(levels.joined(separator: "/"))
            levels.append(name)
            statements.append(("INSERT INTO assets (path, parent, name, depth) VALUES (?, ?, ?, ?) ON CONFLICT (path) DO NOTHING",
                               [.text(levels.joined(separator: "/")), parent, .text(name), .integer(Int64(levels.count))]))
        }
        _ = try await backend.transaction(statements)
    }

    /// The asset tree's paths: every asset at area level or below (3 to 5 levels) and its ancestors. A
    /// two-level path with nothing below it is left out: that is how `stream` names a Sparkplug edge node
    /// without a declared asset (`<group>/<edge>`, e.g. the gateway's own metrics), which is not equipment.
    /// Its values stay available through `/v1/values`.
    public func assetPaths() async throws -> [(path: String, name: String, depth: Int)] {
        try await backend.query("""
            SELECT a.path, a.name, a.depth FROM assets a
            WHERE a.depth >= 3 OR EXISTS (SELECT 1 FROM assets c WHERE c.depth >= 3 AND c.path LIKE a.path || '/%')
            ORDER BY a.path
            """, []).map {
            ($0[0].string ?? "", $0[1].string ?? "", Int($0[2].int ?? 1))
        }
    }

    /// Upserts latest values (write-behind from the in-memory cache).
    func saveLatestValues(_ values: [(path: String, metric: String, json: String, unit: String?, quality: String?, ts: Int64)]) async throws {
        guard !values.isEmpty else { return }
        _ = try await backend.transaction(values.map {
            ("""
             INSERT INTO latest_values (path, metric, value_json, unit, quality, ts) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (path, metric) DO UPDATE SET value_json = excluded.value_json, unit = excluded.unit,
               quality = excluded.quality, ts = excluded.ts WHERE latest_values.ts <= excluded.ts
             """,
             [.text($0.path), .text($0.metric), .text($0.json), $0.unit.map(SQLValue.text) ?? .null,
              $0.quality.map(SQLValue.text) ?? .null, .integer($0.ts)])
        })
    }

    /// Every stored latest value, to warm the cache at start.
    func loadLatestValues() async throws -> [(path: String, metric: String, json: String, unit: String?, quality: String?, ts: Int64)] {
        try await backend.query("SELECT path, metric, value_json, unit, quality, ts FROM latest_values", []).map {
            ($0[0].string ?? "", $0[1].string ?? "", $0[2].string ?? "null", $0[3].string, $0[4].string, $0[5].int ?? 0)
        }
    }

    /// Applies one UNS event exactly once: the dedup key and the projection commit in one transaction and
    /// every projection statement is itself idempotent. Returns false for a duplicate.
    func apply(eventKey: String, statements: [(String, [SQLValue])]) async throws -> Bool {
        let counts = try await backend.transaction(
            [("INSERT INTO processed_events (event_key, received_at) VALUES (?, ?) ON CONFLICT (event_key) DO NOTHING",
              [.text(eventKey), .integer(Millis.now())])]
                + statements)
        return counts.first == 1
    }

    /// Work order to attribute a production window to: the one running on an asset at or above `path`.
    func runningWorkOrder(containing path: ISA95Path) async throws -> String? {
        var candidates: [SQLValue] = []
        var levels: [String] = []
        for name in path.levels {
            levels.append(name)
            candidates.append(.text(levels.joined(separator: "/")))
        }
        let marks = Array(repeating: "?", count: candidates.count).joined(separator: ", ")
        let rows = try await backend.query(
            "SELECT id FROM work_orders WHERE status = 'running' AND asset IN (\(marks)) ORDER BY started_at DESC LIMIT 1",
            candidates)
        return rows.first?[0].string
    }

    /// State changes of assets at or below `path` (all when nil), oldest first, with their classification.
    func stateChanges(under path: String?, from: Int64? = nil, to: Int64? = nil) async throws -> [StateChangeRow] {
        var sql = "SELECT event_id, path, state, previous, reason, since, reason_code, classified_by, classified_at FROM state_changes WHERE 1 = 1"
        var binds: [SQLValue] = []
        if let path {
            sql += " AND (path = ? OR path LIKE ?)"
            binds += [.text(path), .text(Self.likePrefix(path))]
        }
        // The change in force at `from` is needed too: take everything before `to`, trim in Swift.
        if let to { sql += " AND since < ?"; binds.append(.integer(to)) }
        _ = from
        sql += " ORDER BY path, since, event_id"
        return try await backend.query(sql, binds).map {
            StateChangeRow(eventID: $0[0].string ?? "", path: $0[1].string ?? "", state: $0[2].string ?? "",
                           previous: $0[3].string, reason: $0[4].string, since: $0[5].int ?? 0,
                           reasonCode: $0[6].string, classifiedBy: $0[7].string, classifiedAt: $0[8].int)
        }
    }

    /// Sets an operator's reason code on a stop.
    func classify(downtime id: String, reasonCode: String, user: String) async throws -> StateChangeRow {
        let rows = try await backend.query("SELECT state FROM state_changes WHERE event_id = ?", [.text(id)])
        guard let state = rows.first?[0].string else { throw APIError.notFound("downtime", id) }
        guard state != EquipmentState.running.rawValue else {
            throw APIError(.conflict, "\"\(id)\" is a change to running, not a stop; only stops can be classified")
        }
        _ = try await backend.run(
            "UPDATE state_changes SET reason_code = ?, classified_by = ?, classified_at = ? WHERE event_id = ?",
            [.text(reasonCode), .text(user), .integer(Millis.now()), .text(id)])
        let updated = try await backend.query(
            "SELECT event_id, path, state, previous, reason, since, reason_code, classified_by, classified_at FROM state_changes WHERE event_id = ?",
            [.text(id)])
        guard let row = updated.first else { throw APIError.notFound("downtime", id) }
        return StateChangeRow(eventID: row[0].string ?? "", path: row[1].string ?? "", state: row[2].string ?? "",
                              previous: row[3].string, reason: row[4].string, since: row[5].int ?? 0,
                              reasonCode: row[6].string, classifiedBy: row[7].string, classifiedAt: row[8].int)
    }

    /// The end of the stop `row`: the next change of the same asset.
    func nextChange(after row: StateChangeRow) async throws -> Int64? {
        try await backend.query(
            "SELECT MIN(since) FROM state_changes WHERE path = ? AND since > ?",
            [.text(row.path), .integer(row.since)]).first?[0].int
    }

    /// Alarms at or below `path`, newest first; `openOnly`: not cleared or not acknowledged.
    public func alarms(under path: String?, openOnly: Bool, limit: Int, offset: Int) async throws -> [Alarm] {
        var sql = """
            SELECT id, alarm_id, path, metric, severity, threshold, value, message, raised_at, cleared_at, cleared_by,
                   acknowledged_at, acknowledged_by FROM alarms WHERE 1 = 1
            """
        var binds: [SQLValue] = []
        if let path {
            sql += " AND (path = ? OR path LIKE ?)"
            binds += [.text(path), .text(Self.likePrefix(path))]
        }
        if openOnly { sql += " AND (cleared_at IS NULL OR acknowledged_at IS NULL)" }
        sql += " ORDER BY raised_at DESC, id LIMIT ? OFFSET ?"
        binds += [.integer(Int64(limit)), .integer(Int64(offset))]
        return try await backend.query(sql, binds).map(Self.alarm)
    }

    /// Acknowledges an alarm occurrence; acknowledging twice keeps the first acknowledgement.
    public func acknowledge(alarm id: String, user: String) async throws -> Alarm {
        _ = try await backend.run(
            "UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL",
            [.integer(Millis.now()), .text(user), .text(id)])
        let rows = try await backend.query("""
            SELECT id, alarm_id, path, metric, severity, threshold, value, message, raised_at, cleared_at, cleared_by,
                   acknowledged_at, acknowledged_by FROM alarms WHERE id = ?
            """, [.text(id)])
        guard let row = rows.first else { throw APIError.notFound("alarm", id) }
        return Self.alarm(row)
    }

    private static func alarm(_ row: [SQLValue]) -> Alarm {
        Alarm(id: row[0].string ?? "", alarmId: row[1].string ?? "", asset: row[2].string ?? "",
              metric: row[3].string ?? "", severity: row[4].string ?? "", threshold: row[5].double ?? 0,
              value: row[6].double ?? 0, message: row[7].string ?? "",
              state: row[9].int == nil ? "active" : "cleared", raisedAt: Millis.text(row[8].int ?? 0),
              clearedAt: Millis.text(row[9].int), clearedBy: row[10].string, acknowledged: row[11].int != nil,
              acknowledgedAt: Millis.text(row[11].int), acknowledgedBy: row[12].string)
    }

    /// Production windows of assets at or below `path` that start in `[from, to)`, with the ideal cycle time
    /// of the product of the work order they are attributed to or, without one, the machine's own cycle time
    /// setpoint from the UNS (`machineCycleMetrics`), so a plant running without work orders still has a
    /// performance figure.
    func production(under path: String, from: Int64, to: Int64) async throws -> [(path: String, slice: ProductionSlice)] {
        let rows: [(path: String, slice: ProductionSlice)] = try await backend.query("""
            SELECT p.path, CAST(SUM(p.good) AS BIGINT), CAST(SUM(p.scrap) AS BIGINT), pr.ideal_cycle_seconds
            FROM production p
            LEFT JOIN work_orders w ON w.id = p.work_order_id
            LEFT JOIN products pr ON pr.id = w.product_id
            WHERE (p.path = ? OR p.path LIKE ?) AND p.window_start >= ? AND p.window_start < ?
            GROUP BY p.path, pr.ideal_cycle_seconds
            """, [.text(path), .text(Self.likePrefix(path)), .integer(from), .integer(to)]
        ).map {
            ($0[0].string ?? "", ProductionSlice(good: Int($0[1].int ?? 0), scrap: Int($0[2].int ?? 0),
                                                 idealCycleSeconds: $0[3].double))
        }
        guard rows.contains(where: { $0.slice.idealCycleSeconds == nil }) else { return rows }
        let machineCycles = try await machineCycleSeconds(under: path)
        return rows.map { row in
            guard row.slice.idealCycleSeconds == nil, let cycle = machineCycles[row.path] else { return row }
            var slice = row.slice
            slice.idealCycleSeconds = cycle
            return (row.path, slice)
        }
    }

    // MARK: Products and work orders

    /// Creates or replaces a product.
    public func upsertProduct(_ product: Product) async throws {
        try Self.validateName(product.id, what: "product id")
        guard product.idealCycleSeconds > 0, product.idealCycleSeconds.isFinite else {
            throw APIError.parameter("idealCycleSeconds", "\(product.idealCycleSeconds)", expected: "a number of seconds above 0")
        }
        _ = try await backend.run("""
            INSERT INTO products (id, name, ideal_cycle_seconds) VALUES (?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, ideal_cycle_seconds = excluded.ideal_cycle_seconds
            """, [.text(product.id), .text(product.name), .real(product.idealCycleSeconds)])
    }

    public func products() async throws -> [Product] {
        try await backend.query("SELECT id, name, ideal_cycle_seconds FROM products ORDER BY id", []).map {
            Product(id: $0[0].string ?? "", name: $0[1].string ?? "", idealCycleSeconds: $0[2].double ?? 0)
        }
    }

    public func product(_ id: String) async throws -> Product? {
        try await backend.query("SELECT id, name, ideal_cycle_seconds FROM products WHERE id = ?", [.text(id)]).first.map {
            Product(id: $0[0].string ?? "", name: $0[1].string ?? "", idealCycleSeconds: $0[2].double ?? 0)
        }
    }

    /// Inserts a new work order in status `created`; `.conflict` if the id exists. `event` (its
    /// `workorder.created`) goes into the outbox in the same transaction.
    func insertWorkOrder(_ draft: WorkOrderDraft, event: OutboxMessage? = nil) async throws -> WorkOrder {
        let now = Millis.now()
        let counts = try await backend.transactionIfFirstChanges([("""
            INSERT INTO work_orders (id, product_id, quantity_target, asset, status, scheduled_start, scheduled_end,
                                     created_at, updated_at) VALUES (?, ?, ?, ?, 'created', ?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING
            """, [.text(draft.id), .text(draft.product), .integer(Int64(draft.quantityTarget)), .text(draft.asset.description),
                  draft.scheduledStart.map(SQLValue.integer) ?? .null, draft.scheduledEnd.map(SQLValue.integer) ?? .null,
                  .integer(now), .integer(now)])] + outboxInserts(event))
        guard counts != nil else { throw APIError(.conflict, "work order \"\(draft.id)\" already exists") }
        guard let order = try await workOrder(draft.id) else { throw APIError.notFound("work order", draft.id) }
        return order
    }

    /// Moves a work order to `status` if it is still in `expected` (optimistic: a concurrent change wins).
    /// `event`, the change's CloudEvent, goes into the outbox in the same transaction: both or neither commit.
    func transitionWorkOrder(_ id: String, from expected: WorkOrderStatus, to status: WorkOrderStatus,
                             event: OutboxMessage? = nil) async throws {
        let now = Millis.now()
        let started: SQLValue = status == .running ? .integer(now) : .null
        let completed: SQLValue = status == .completed || status == .cancelled ? .integer(now) : .null
        let counts = try await backend.transactionIfFirstChanges([("""
            UPDATE work_orders SET status = ?, updated_at = ?, started_at = COALESCE(started_at, ?),
                   completed_at = COALESCE(?, completed_at) WHERE id = ? AND status = ?
            """, [.text(status.rawValue), .integer(now), started, completed, .text(id), .text(expected.rawValue)])]
            + outboxInserts(event))
        guard counts != nil else {
            throw APIError(.conflict, "work order \"\(id)\" changed while this request ran; read it again and retry")
        }
    }

    private static let workOrderColumns = """
        w.id, w.product_id, w.quantity_target, w.asset, w.status, w.scheduled_start, w.scheduled_end, w.created_at,
        w.updated_at, w.started_at, w.completed_at,
        (SELECT CAST(COALESCE(SUM(good), 0) AS BIGINT) FROM production p WHERE p.work_order_id = w.id),
        (SELECT CAST(COALESCE(SUM(scrap), 0) AS BIGINT) FROM production p WHERE p.work_order_id = w.id)
        """

    public func workOrder(_ id: String) async throws -> WorkOrder? {
        try await backend.query("SELECT \(Self.workOrderColumns) FROM work_orders w WHERE w.id = ?", [.text(id)])
            .first.map(Self.workOrder)
    }

    public func workOrders(status: WorkOrderStatus?, asset: String?, limit: Int, offset: Int) async throws -> [WorkOrder] {
        var sql = "SELECT \(Self.workOrderColumns) FROM work_orders w WHERE 1 = 1"
        var binds: [SQLValue] = []
        if let status { sql += " AND w.status = ?"; binds.append(.text(status.rawValue)) }
        if let asset {
            sql += " AND (w.asset = ? OR w.asset LIKE ?)"
            binds += [.text(asset), .text(Self.likePrefix(asset))]
        }
        sql += " ORDER BY w.created_at DESC, w.id LIMIT ? OFFSET ?"
        binds += [.integer(Int64(limit)), .integer(Int64(offset))]
        return try await backend.query(sql, binds).map(Self.workOrder)
    }

    private static func workOrder(_ row: [SQLValue]) -> WorkOrder {
        let status = WorkOrderStatus(rawValue: row[4].string ?? "") ?? .created
        return WorkOrder(
            id: row[0].string ?? "", product: row[1].string ?? "", quantityTarget: Int(row[2].int ?? 0),
            asset: row[3].string ?? "", status: status, scheduledStart: Millis.text(row[5].int),
            scheduledEnd: Millis.text(row[6].int), createdAt: Millis.text(row[7].int ?? 0),
            updatedAt: Millis.text(row[8].int ?? 0), startedAt: Millis.text(row[9].int),
            completedAt: Millis.text(row[10].int), good: Int(row[11].int ?? 0), scrap: Int(row[12].int ?? 0),
            allowedActions: WorkOrderLifecycle.allowedActions(from: status))
    }

    // MARK: Helpers shared by the queries

    /// `LIKE` pattern for everything below `path`; `_` and `%` in names are escaped… SQLite and PostgreSQL
    /// both treat `\` as the default escape only with `ESCAPE`, so names with `%`/`_` are matched loosely
    /// and re-checked by callers that care (ISA-95 names rarely hold them).
    static func likePrefix(_ path: String) -> String { path + "/%" }

    /// Ids and names: 1…100 characters, no `/`, no control characters.
    static func validateName(_ name: String, what: String) throws(APIError) {
        guard !name.isEmpty, name.count <= 100, !name.contains("/"),
              !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError(.invalidParameter, "\(what) \"\(name)\" is not valid: 1…100 characters without / or control characters")
        }
    }
}

/// A row of `state_changes`: a machine's state change with its operator classification.
struct StateChangeRow: Sendable, Equatable {
    var eventID: String
    var path: String
    var state: String
    var previous: String?
    var reason: String?
    var since: Int64
    var reasonCode: String?
    var classifiedBy: String?
    var classifiedAt: Int64?
}

/// A validated new work order.
public struct WorkOrderDraft: Sendable, Equatable {
    public var id: String
    public var product: String
    public var quantityTarget: Int
    public var asset: ISA95Path
    public var scheduledStart: Int64?
    public var scheduledEnd: Int64?
}
