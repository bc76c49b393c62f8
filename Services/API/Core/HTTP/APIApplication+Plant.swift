import EventSchema
import Foundation
import Hummingbird

extension APIApplication {
    /// Asset tree, latest values, states, alarms, downtime, reasons, OEE and live events.
    func registerPlantRoutes(on router: Router<BasicRequestContext>) {
        add(router, .get, "/v1/assets", role: .viewer) { [self] _, _, _ in
            try HTTPJSON.response(AssetTreeResponse(assets: Self.tree(try await store.assetPaths())))
        }
        add(router, .get, "/v1/values", role: .viewer) { [self] request, _, _ in
            let query = Query(request)
            guard let asset = try query.asset() else {
                throw APIError(.invalidParameter, "query parameter \"asset\" is required: an ISA-95 path like acme/plant1/press-area/line-1/press-3")
            }
            if try query.bool("below") {
                return try HTTPJSON.response(ValuesResponse(asset: asset.description, values: cache.values(under: asset.description)))
            }
            // The hot path: bytes encoded once per change, no store access.
            guard let bytes = cache.encodedValues(of: asset.description) else {
                throw APIError(.notFound, "asset \"\(asset)\" has no values (yet); known assets: GET /v1/assets")
            }
            return HTTPJSON.raw(bytes)
        }
        add(router, .get, "/v1/states", role: .viewer) { [self] request, _, _ in
            let asset = try Query(request).asset()
            let rows = try await store.stateChanges(under: asset?.description)
            var latest: [String: StateChangeRow] = [:]
            for row in rows where (latest[row.path]?.since ?? .min) <= row.since { latest[row.path] = row }
            let states = latest.values.sorted { $0.path < $1.path }.map {
                MachineState(asset: $0.path, state: $0.state, previous: $0.previous, since: Millis.text($0.since), reason: $0.reason)
            }
            return try HTTPJSON.response(["items": states])
        }
        add(router, .get, "/v1/states/timeline", role: .viewer) { [self] request, _, _ in
            let query = Query(request)
            guard let asset = try query.asset() else {
                throw APIError(.invalidParameter, "query parameter \"asset\" is required: the machine's ISA-95 path")
            }
            let (from, to) = try Self.range(query)
            let rows = try await store.stateChanges(under: asset.description, to: to).filter { $0.path == asset.description }
            let spans = OEECalculator.spans(changes: rows.compactMap { row in
                EquipmentState(rawValue: row.state).map { (row.since, $0, row.reasonCode, false) }
            }, from: from, to: to)
            let intervals = spans.map {
                StateInterval(state: $0.state?.rawValue, start: Millis.text($0.start), end: Millis.text($0.end),
                              durationSeconds: Double($0.end - $0.start) / 1000, reasonCode: $0.reasonCode)
            }
            return try HTTPJSON.response(TimelineResponse(asset: asset.description, from: Millis.text(from),
                                                          to: Millis.text(to), intervals: intervals))
        }
        add(router, .get, "/v1/alarms", role: .viewer) { [self] request, _, _ in
            let query = Query(request)
            let (limit, offset) = try query.page()
            let state = query.string("state") ?? "open"
            guard state == "open" || state == "all" else {
                throw APIError.parameter("state", state, expected: "open (not yet cleared or not yet acknowledged) or all")
            }
            let alarms = try await store.alarms(under: try query.asset()?.description, openOnly: state == "open",
                                                limit: limit, offset: offset)
            return try HTTPJSON.response(query.paged(alarms, limit: limit, offset: offset))
        }
        add(router, .post, "/v1/alarms/{id}/acknowledge", role: .operator) { [self] _, context, principal in
            let id = context.parameters.get("id") ?? ""
            let alarm = try await store.acknowledge(alarm: id, user: principal?.user ?? "")
            try await audit(principal, "alarm.acknowledge", id, alarm.alarmId)
            return try HTTPJSON.response(alarm)
        }
        add(router, .get, "/v1/downtime", role: .viewer) { [self] request, _, _ in
            let query = Query(request)
            let (limit, offset) = try query.page()
            let (from, to) = try Self.range(query)
            let all = try await downtime(under: try query.asset()?.description, from: from, to: to)
            let page = Array(all.dropFirst(offset).prefix(limit))
            return try HTTPJSON.response(query.paged(page, limit: limit, offset: offset))
        }
        add(router, .post, "/v1/downtime/{id}/classify", role: .operator) { [self] request, context, principal in
            struct Body: Decodable { var reasonCode: String }
            let id = context.parameters.get("id") ?? ""
            let body = try await HTTPJSON.decode(Body.self, from: request)
            guard let planned = config.reasons.planned(body.reasonCode) else {
                throw APIError(.invalidParameter, "reasonCode \"\(body.reasonCode)\" is not in the reason tree; "
                    + "known codes: \(config.reasons.codes.joined(separator: ", "))")
            }
            let row = try await store.classify(downtime: id, reasonCode: body.reasonCode, user: principal?.user ?? "")
            try await audit(principal, "downtime.classify", id, body.reasonCode)
            let end = try await store.nextChange(after: row)
            return try HTTPJSON.response(Self.downtime(row, end: end, planned: planned))
        }
        add(router, .get, "/v1/reasons", role: .viewer) { [self] _, _, _ in
            try HTTPJSON.response(config.reasons)
        }
        add(router, .get, "/v1/oee", role: .viewer) { [self] request, _, _ in
            let query = Query(request)
            guard let asset = try query.asset() else {
                throw APIError(.invalidParameter, "query parameter \"asset\" is required: a machine, line, area or site path")
            }
            let (from, to) = try Self.range(query)
            return try HTTPJSON.response(try await oee(asset: asset.description, from: from, to: to))
        }
        add(router, .get, "/v1/events", role: .viewer) { [self] request, _, _ in
            let query = Query(request)
            let filter = LiveFilter(asset: try query.asset()?.description, type: query.string("type"),
                                    includeValues: try query.bool("values"))
            if let type = filter.type, type != "value" {
                do {
                    _ = try UNSTopic.eventFilters(type: type)
                } catch {
                    throw APIError.parameter("type", type, expected: "a short event type like alarm.raised or a full one like io.shopfloor.alarm.raised.v1")
                }
            }
            return liveResponse(filter)
        }
    }

    /// `from` and `to` (RFC 3339 or ms); defaults: the last 24 hours up to now.
    static func range(_ query: Query) throws(APIError) -> (Int64, Int64) {
        let now = Millis.now()
        let to = try query.time("to") ?? now
        let from = try query.time("from") ?? (to - 86_400_000)
        guard from < to else {
            throw APIError(.invalidParameter, "from (\(Millis.text(from))) must be before to (\(Millis.text(to)))")
        }
        return (from, to)
    }

    /// Stops overlapping `[from, to)` of machines at or below `path`, newest first.
    func downtime(under path: String?, from: Int64, to: Int64) async throws -> [Downtime] {
        let rows = try await store.stateChanges(under: path, to: to)
        var result: [Downtime] = []
        let byPath = Dictionary(grouping: rows, by: \.path)
        for (_, changes) in byPath {
            let sorted = changes.sorted { $0.since < $1.since }
            for (index, row) in sorted.enumerated() where row.state != EquipmentState.running.rawValue {
                let end = index + 1 < sorted.count ? sorted[index + 1].since : nil
                guard (end ?? Int64.max) > from else { continue }
                let planned = row.state == EquipmentState.maintenance.rawValue
                    || (row.reasonCode.flatMap(config.reasons.planned) ?? false)
                result.append(Self.downtime(row, end: end, planned: planned))
            }
        }
        return result.sorted { ($0.start, $0.id) > ($1.start, $1.id) }
    }

    static func downtime(_ row: StateChangeRow, end: Int64?, planned: Bool) -> Downtime {
        Downtime(id: row.eventID, asset: row.path, state: row.state, start: Millis.text(row.since), end: Millis.text(end),
                 durationSeconds: Double((end ?? Millis.now()) - row.since) / 1000, reason: row.reason,
                 reasonCode: row.reasonCode, planned: planned || row.state == EquipmentState.maintenance.rawValue,
                 classifiedBy: row.classifiedBy, classifiedAt: Millis.text(row.classifiedAt))
    }

    /// OEE of every machine at or below `asset` and of all of them together, over `[from, to)` (clipped at now).
    func oee(asset: String, from: Int64, to requestedTo: Int64) async throws -> OEEReport {
        let to = min(requestedTo, max(from, Millis.now()))
        let changes = try await store.stateChanges(under: asset, to: to)
        let production = try await store.production(under: asset, from: from, to: to)
        let machines = Set(changes.map(\.path)).union(production.map(\.path)).sorted()
        let byPath = Dictionary(grouping: changes, by: \.path)
        var allSpans: [StateSpan] = []
        var allSlices: [ProductionSlice] = []
        var perMachine: [MachineOEE] = []
        for machine in machines {
            let spans = OEECalculator.spans(changes: (byPath[machine] ?? []).compactMap { row in
                EquipmentState(rawValue: row.state).map {
                    (row.since, $0, row.reasonCode, row.reasonCode.flatMap(config.reasons.planned) ?? false)
                }
            }, from: from, to: to)
            let slices = production.filter { $0.path == machine }.map(\.slice)
            allSpans += spans
            allSlices += slices
            perMachine.append(MachineOEE(asset: machine, figures: OEECalculator.compute(spans: spans, production: slices)))
        }
        return OEEReport(asset: asset, from: Millis.text(from), to: Millis.text(to),
                         overall: OEECalculator.compute(spans: allSpans, production: allSlices), machines: perMachine)
    }

    /// Nests the flat asset list into trees (one per enterprise).
    static func tree(_ paths: [(path: String, name: String, depth: Int)]) -> [AssetNode] {
        var children: [String: [(path: String, name: String, depth: Int)]] = [:]
        var roots: [(path: String, name: String, depth: Int)] = []
        for entry in paths {
            if let slash = entry.path.lastIndex(of: "/") {
                children[String(entry.path[..<slash]), default: []].append(entry)
            } else {
                roots.append(entry)
            }
        }
        func build(_ entry: (path: String, name: String, depth: Int)) -> AssetNode {
            AssetNode(path: entry.path, name: entry.name, level: AssetNode.level(depth: entry.depth),
                      children: (children[entry.path] ?? []).sorted { $0.path < $1.path }.map(build))
        }
        return roots.sorted { $0.path < $1.path }.map(build)
    }

    /// The SSE response: `: connected`, then one `id/event/data` block per item and a comment every 15 s
    /// so proxies keep the connection open.
    func liveResponse(_ filter: LiveFilter) -> Response {
        let items = hub.subscribe(filter)
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": connected\n\n"))
            let (merged, continuation) = AsyncStream<String>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await item in items {
                        continuation.yield("id: \(item.id)\nevent: \(item.type)\ndata: \(item.json)\n\n")
                    }
                    continuation.finish()
                }
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(15))
                        continuation.yield(": keepalive\n\n")
                    }
                }
                for await chunk in merged {
                    try await writer.write(ByteBuffer(string: chunk))
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// `GET /v1/assets` response.
struct AssetTreeResponse: Codable {
    var assets: [AssetNode]
}

/// `GET /v1/states/timeline` response.
struct TimelineResponse: Codable {
    var asset: String
    var from: String
    var to: String
    var intervals: [StateInterval]
}

/// `GET /v1/oee` response.
public struct OEEReport: Codable, Sendable {
    public var asset: String
    public var from: String
    public var to: String
    public var overall: OEEFigures
    public var machines: [MachineOEE]
}

/// One machine's figures inside an `OEEReport`.
public struct MachineOEE: Codable, Sendable {
    public var asset: String
    public var figures: OEEFigures
}
