import EventSchema
import Foundation
import Hummingbird
import MQTT

extension APIApplication {
    /// Products, work orders (lifecycle, ERP import and export).
    func registerMESRoutes(on router: Router<BasicRequestContext>) {
        add(router, .get, "/v1/products", role: .viewer) { [self] _, _, _ in
            try HTTPJSON.response(["items": try await store.products()])
        }
        add(router, .post, "/v1/products", role: .admin) { [self] request, _, principal in
            let product = try await HTTPJSON.decode(Product.self, from: request)
            try await store.upsertProduct(product)
            try await audit(principal, "product.upsert", product.id, "idealCycleSeconds \(product.idealCycleSeconds)")
            return try HTTPJSON.response(product, status: .created)
        }
        add(router, .get, "/v1/products/{id}", role: .viewer) { [self] _, context, _ in
            let id = context.parameters.get("id") ?? ""
            guard let product = try await store.product(id) else { throw APIError.notFound("product", id) }
            return try HTTPJSON.response(product)
        }
        add(router, .get, "/v1/workorders", role: .viewer) { [self] request, _, _ in
            let query = Query(request)
            let (limit, offset) = try query.page()
            var status: WorkOrderStatus?
            if let text = query.string("status") {
                guard let parsed = WorkOrderStatus(rawValue: text) else {
                    throw APIError.parameter("status", text, expected: WorkOrderStatus.allCases.map(\.rawValue).joined(separator: ", "))
                }
                status = parsed
            }
            let orders = try await store.workOrders(status: status, asset: try query.asset()?.description,
                                                    limit: limit, offset: offset)
            return try HTTPJSON.response(query.paged(orders, limit: limit, offset: offset))
        }
        add(router, .post, "/v1/workorders", role: .operator) { [self] request, _, principal in
            let body = try await HTTPJSON.decode(WorkOrderInput.self, from: request)
            let order = try await createWorkOrder(body, principal: principal)
            return try HTTPJSON.response(order, status: .created)
        }
        add(router, .get, "/v1/workorders/export", role: .viewer) { [self] request, _, _ in
            let format = Query(request).string("format") ?? "json"
            var all: [WorkOrder] = []
            while true {
                let page = try await store.workOrders(status: nil, asset: nil, limit: 1000, offset: all.count)
                all += page
                if page.count < 1000 { break }
            }
            switch format {
            case "json": return try HTTPJSON.response(["workOrders": all])
            case "csv": return HTTPJSON.raw(Array(ERPFormat.csv(all).utf8), contentType: "text/csv; charset=utf-8")
            default: throw APIError.parameter("format", format, expected: "json or csv")
            }
        }
        add(router, .post, "/v1/workorders/import", role: .admin) { [self] request, _, principal in
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: 8 << 20)
            } catch {
                throw APIError(.badRequest, "import body is larger than 8 MiB; split the file")
            }
            let data = Data(buffer: buffer)
            let contentType = request.headers[.contentType] ?? "application/json"
            let rows: [(Int, Result<WorkOrderInput, APIError>)] = contentType.hasPrefix("text/csv")
                ? try ERPFormat.parseCSV(String(decoding: data, as: UTF8.self))
                : try ERPFormat.parseJSON(data)
            var report = ImportReport(imported: 0, failed: 0, errors: [])
            for (row, parsed) in rows {
                do {
                    let input = try parsed.get()
                    _ = try await createWorkOrder(input, principal: principal, auditAction: "workorder.import")
                    report.imported += 1
                } catch let error as APIError {
                    report.failed += 1
                    let id = (try? parsed.get())?.id
                    report.errors.append(.init(row: row, id: id, code: error.code.rawValue, message: error.message))
                }
            }
            return try HTTPJSON.response(report)
        }
        add(router, .get, "/v1/workorders/{id}", role: .viewer) { [self] _, context, _ in
            let id = context.parameters.get("id") ?? ""
            guard let order = try await store.workOrder(id) else { throw APIError.notFound("work order", id) }
            return try HTTPJSON.response(order)
        }
        for action in WorkOrderAction.allCases {
            add(router, .post, "/v1/workorders/{id}/\(action.rawValue)", role: .operator) { [self] _, context, principal in
                let id = context.parameters.get("id") ?? ""
                return try HTTPJSON.response(try await transition(id, action, principal: principal))
            }
        }
    }
}

/// A work order as created by `POST /v1/workorders` or one import row.
struct WorkOrderInput: Codable, Sendable {
    var id: String
    var product: String
    var quantityTarget: Int
    var asset: String
    var scheduledStart: String?
    var scheduledEnd: String?

    /// Checks every field, naming the first that is wrong.
    func validated() throws(APIError) -> WorkOrderDraft {
        try APIStore.validateName(id, what: "work order id")
        try APIStore.validateName(product, what: "product")
        guard quantityTarget > 0 else {
            throw APIError.parameter("quantityTarget", "\(quantityTarget)", expected: "a whole number of parts above 0")
        }
        guard let path = ISA95Path(parsing: asset) else {
            throw APIError.parameter("asset", asset, expected: "an ISA-95 path enterprise/site[/area[/line[/cell]]]")
        }
        var start: Int64?, end: Int64?
        if let text = scheduledStart, !text.isEmpty {
            guard let ms = Millis.parse(text) else { throw APIError.parameter("scheduledStart", text, expected: "an RFC 3339 time") }
            start = ms
        }
        if let text = scheduledEnd, !text.isEmpty {
            guard let ms = Millis.parse(text) else { throw APIError.parameter("scheduledEnd", text, expected: "an RFC 3339 time") }
            end = ms
        }
        if let start, let end, end <= start {
            throw APIError(.invalidParameter, "scheduledEnd (\(Millis.text(end))) must be after scheduledStart (\(Millis.text(start)))")
        }
        return WorkOrderDraft(id: id, product: product, quantityTarget: quantityTarget, asset: path,
                              scheduledStart: start, scheduledEnd: end)
    }
}

/// `POST /v1/workorders/import` response: what was imported and, per failed row, why.
struct ImportReport: Codable {
    struct RowError: Codable {
        /// 1-based data row (the CSV header is not counted).
        var row: Int
        var id: String?
        var code: String
        var message: String
    }
    var imported: Int
    var failed: Int
    var errors: [RowError]
}

/// The ERP exchange formats: JSON (`{"workOrders":[…]}` or a bare array) and CSV with a header row
/// `id,product,quantityTarget,asset,scheduledStart,scheduledEnd`.
enum ERPFormat {
    static let importColumns = ["id", "product", "quantityTarget", "asset", "scheduledStart", "scheduledEnd"]

    static func parseJSON(_ data: Data) throws -> [(Int, Result<WorkOrderInput, APIError>)] {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: data)
        } catch {
            throw APIError(.invalidJSON, "import body is not valid JSON (\(error.message)); send JSON or Content-Type: text/csv")
        }
        let rows: [JSONValue]
        switch value {
        case .array(let array): rows = array
        case .object(let object):
            guard case .array(let array)? = object["workOrders"] else {
                throw APIError(.invalidJSON, "import JSON must be an array of work orders or {\"workOrders\": [...]}")
            }
            rows = array
        default:
            throw APIError(.invalidJSON, "import JSON must be an array of work orders or {\"workOrders\": [...]}")
        }
        return rows.enumerated().map { index, row in
            let data = (try? JSONEncoder().encode(row)) ?? Data()
            do {
                return (index + 1, .success(try HTTPJSON.decode(WorkOrderInput.self, from: data)))
            } catch let error as APIError {
                return (index + 1, .failure(error))
            } catch {
                return (index + 1, .failure(APIError(.invalidJSON, "\(error)")))
            }
        }
    }

    static func parseCSV(_ text: String) throws(APIError) -> [(Int, Result<WorkOrderInput, APIError>)] {
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { throw APIError(.badRequest, "the CSV is empty; the first line must be the header") }
        let header = fields(lines.removeFirst()).map { $0.trimmingCharacters(in: .whitespaces) }
        for required in importColumns.prefix(4) where !header.contains(required) {
            throw APIError(.badRequest, "the CSV header lacks column \"\(required)\"; expected \(importColumns.joined(separator: ","))")
        }
        return lines.enumerated().map { index, line in
            let values = fields(line)
            guard values.count == header.count else {
                return (index + 1, .failure(APIError(.badRequest, "row has \(values.count) fields, the header \(header.count)")))
            }
            let row = Dictionary(zip(header, values), uniquingKeysWith: { first, _ in first })
            guard let quantity = Int(row["quantityTarget"] ?? "") else {
                return (index + 1, .failure(APIError.parameter("quantityTarget", row["quantityTarget"] ?? "", expected: "a whole number")))
            }
            return (index + 1, .success(WorkOrderInput(id: row["id"] ?? "", product: row["product"] ?? "", quantityTarget: quantity,
                                                       asset: row["asset"] ?? "", scheduledStart: row["scheduledStart"],
                                                       scheduledEnd: row["scheduledEnd"])))
        }
    }

    /// RFC 4180 fields of one line: commas, double quotes with `""` escapes.
    static func fields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = Array(line).makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }

    static func csv(_ orders: [WorkOrder]) -> String {
        func cell(_ text: String?) -> String {
            guard let text else { return "" }
            return text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var out = (importColumns + ["status", "good", "scrap"]).joined(separator: ",") + "\n"
        for order in orders {
            out += [cell(order.id), cell(order.product), String(order.quantityTarget), cell(order.asset),
                    cell(order.scheduledStart), cell(order.scheduledEnd), order.status.rawValue, String(order.good),
                    String(order.scrap)].joined(separator: ",") + "\n"
        }
        return out
    }
}
