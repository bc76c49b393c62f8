import EventSchema
import Foundation

/// The OpenAPI 3.1 document served at `/openapi.json`, written out route by route (not generated from the
/// router) so that `OpenAPITests` can compare the two and catch an undocumented or a stale route.
enum OpenAPIDocument {
    /// The encoded document, built once.
    static let json: [UInt8] = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(document)) ?? Data("{}".utf8))
    }()

    /// Method + path of every documented operation.
    static var operations: Set<RouteSpec> {
        guard case .object(let paths)? = document.objectValue?["paths"] else { return [] }
        var result: Set<RouteSpec> = []
        for (path, item) in paths {
            guard case .object(let methods) = item else { continue }
            for method in methods.keys { result.insert(RouteSpec(method: method.uppercased(), path: path)) }
        }
        return result
    }

    // MARK: Schema building blocks

    private static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    private static let string: JSONValue = .object(["type": "string"])
    private static let nullableString: JSONValue = .object(["type": .array(["string", "null"])])
    private static let dateTime: JSONValue = .object(["type": "string", "format": "date-time"])
    private static let nullableDateTime: JSONValue = .object(["type": .array(["string", "null"]), "format": "date-time"])
    private static let integer: JSONValue = .object(["type": "integer"])
    private static let number: JSONValue = .object(["type": "number"])
    private static let nullableNumber: JSONValue = .object(["type": .array(["number", "null"])])
    private static let boolean: JSONValue = .object(["type": "boolean"])
    private static func array(_ items: JSONValue) -> JSONValue { .object(["type": "array", "items": items]) }
    private static func map(_ values: JSONValue) -> JSONValue { .object(["type": "object", "additionalProperties": values]) }
    private static func enumeration(_ values: [String], nullable: Bool = false) -> JSONValue {
        .object(["type": nullable ? .array(["string", "null"]) : "string",
                 "enum": .array(values.map { .string($0) } + (nullable ? [.null] : []))])
    }

    /// An object schema; every property is required unless listed in `optional`.
    private static func object(_ properties: [String: JSONValue], optional: Set<String> = []) -> JSONValue {
        .object(["type": "object", "properties": .object(properties),
                 "required": .array(properties.keys.filter { !optional.contains($0) }.sorted().map { .string($0) })])
    }

    private static func page(_ item: String) -> JSONValue {
        object(["items": array(ref(item)), "limit": integer, "offset": integer,
                "nextOffset": .object(["type": .array(["integer", "null"])]), "next": nullableString])
    }

    private static func items(_ item: String) -> JSONValue { object(["items": array(ref(item))]) }

    // MARK: Operations

    private enum Access { case publicRoute, viewer, operatorRole, admin }

    private struct Parameter {
        var name: String
        var location = "query"
        var required = false
        var schema: JSONValue = string
        var description: String
    }

    private static func operation(_ summary: String, _ access: Access, parameters: [Parameter] = [],
                                  body: JSONValue? = nil, bodyTypes: [String] = ["application/json"],
                                  status: String = "200", response: JSONValue?,
                                  responseType: String = "application/json") -> JSONValue {
        var op: [String: JSONValue] = ["summary": .string(summary)]
        switch access {
        case .publicRoute: op["security"] = .array([])
        case .viewer: op["description"] = "Role: viewer or above."
        case .operatorRole: op["description"] = "Role: operator or admin."
        case .admin: op["description"] = "Role: admin."
        }
        if !parameters.isEmpty {
            op["parameters"] = .array(parameters.map {
                .object(["name": .string($0.name), "in": .string($0.location), "required": .bool($0.required),
                         "schema": $0.schema, "description": .string($0.description)])
            })
        }
        if let body {
            op["requestBody"] = .object(["required": .bool(true), "content": .object(
                Dictionary(uniqueKeysWithValues: bodyTypes.map { ($0, JSONValue.object(["schema": body])) }))])
        }
        var responses: [String: JSONValue] = [
            "default": .object(["description": "error", "content": .object(["application/json": .object(["schema": ref("Error")])])]),
        ]
        if let response {
            responses[status] = .object(["description": "success", "content": .object([responseType: .object(["schema": response])])])
        } else {
            responses[status] = .object(["description": "success, no body"])
        }
        op["responses"] = .object(responses)
        return .object(op)
    }

    private static let assetParameter = Parameter(name: "asset", description: "ISA-95 path, e.g. acme/plant1/press-area/line-1/press-3")
    private static let requiredAsset = Parameter(name: "asset", required: true, description: "ISA-95 path, e.g. acme/plant1/press-area/line-1/press-3")
    private static let fromParameter = Parameter(name: "from", description: "RFC 3339 time or Unix ms; default: 24 h before to")
    private static let toParameter = Parameter(name: "to", description: "RFC 3339 time or Unix ms; default: now")
    private static let paging = [
        Parameter(name: "limit", schema: .object(["type": "integer", "minimum": 1, "maximum": 1000]), description: "page size, default 100"),
        Parameter(name: "offset", schema: .object(["type": "integer", "minimum": 0]), description: "items to skip, default 0"),
    ]
    private static func pathParameter(_ name: String) -> Parameter {
        Parameter(name: name, location: "path", required: true, description: name)
    }

    private static var paths: [String: JSONValue] {
        var paths: [String: [String: JSONValue]] = [:]
        func add(_ method: String, _ path: String, _ op: JSONValue) { paths[path, default: [:]][method] = op }
        add("get", "/health", operation("Service health", .publicRoute, response: .object(["type": "object"])))
        add("get", "/metrics", operation("Prometheus metrics", .publicRoute, response: string,
                                         responseType: "text/plain"))
        add("get", "/openapi.json", operation("This document", .publicRoute, response: .object(["type": "object"])))
        add("post", "/v1/auth/login", operation("Log in; returns a bearer token (also set as a cookie)", .publicRoute,
                                                body: object(["user": string, "password": string]), response: ref("Login")))
        add("post", "/v1/auth/logout", operation("End this session", .viewer, response: object(["status": string])))
        add("get", "/v1/auth/me", operation("Who am I", .viewer, response: object(["user": string, "role": ref("Role"), "via": string])))
        add("get", "/v1/users", operation("Users", .admin, response: items("User")))
        add("post", "/v1/users", operation("Create a user", .admin,
                                           body: object(["name": string, "password": string, "role": ref("Role")]),
                                           status: "201", response: ref("User")))
        add("delete", "/v1/users/{name}", operation("Delete a user, their sessions and tokens", .admin,
                                                    parameters: [pathParameter("name")], status: "204", response: nil))
        add("get", "/v1/tokens", operation("API tokens (own; admins see all)", .viewer, response: items("Token")))
        add("post", "/v1/tokens", operation("Create an API token; the secret is shown only here", .viewer,
                                            body: object(["name": string]), status: "201",
                                            response: object(["id": string, "name": string, "user": string,
                                                              "createdAt": dateTime, "token": string])))
        add("delete", "/v1/tokens/{id}", operation("Revoke an API token", .viewer, parameters: [pathParameter("id")],
                                                   status: "204", response: nil))
        add("get", "/v1/audit", operation("Audit log, newest first", .admin, parameters: paging, response: page("AuditEntry")))
        add("get", "/v1/assets", operation("Asset tree", .viewer, response: object(["assets": array(ref("AssetNode"))])))
        add("get", "/v1/values", operation("Latest values of one asset (or below it)", .viewer,
                                           parameters: [requiredAsset, Parameter(name: "below", schema: boolean,
                                                                                 description: "include every asset below")],
                                           response: object(["asset": string, "values": array(ref("LatestValue"))])))
        add("get", "/v1/states", operation("Current state of every machine at or below asset", .viewer,
                                           parameters: [assetParameter], response: items("MachineState")))
        add("get", "/v1/states/timeline", operation("State timeline of one machine", .viewer,
                                                    parameters: [requiredAsset, fromParameter, toParameter],
                                                    response: object(["asset": string, "from": dateTime, "to": dateTime,
                                                                      "intervals": array(ref("StateInterval"))])))
        add("get", "/v1/alarms", operation("Alarms, newest first", .viewer,
                                           parameters: [assetParameter, Parameter(name: "state", schema: enumeration(["open", "all"]),
                                                                                  description: "open (default): not cleared or not acknowledged")] + paging,
                                           response: page("Alarm")))
        add("post", "/v1/alarms/{id}/acknowledge", operation("Acknowledge an alarm", .operatorRole,
                                                             parameters: [pathParameter("id")], response: ref("Alarm")))
        add("get", "/v1/downtime", operation("Stops, newest first", .viewer,
                                             parameters: [assetParameter, fromParameter, toParameter] + paging,
                                             response: page("Downtime")))
        add("post", "/v1/downtime/{id}/classify", operation("Classify a stop with a reason code", .operatorRole,
                                                            parameters: [pathParameter("id")],
                                                            body: object(["reasonCode": string]), response: ref("Downtime")))
        add("get", "/v1/reasons", operation("Downtime reason tree", .viewer,
                                            response: object(["reasons": array(ref("Reason"))])))
        add("get", "/v1/oee", operation("OEE (ISO 22400) of a machine, line, area or site", .viewer,
                                        parameters: [requiredAsset, fromParameter, toParameter], response: ref("OEEReport")))
        add("get", "/v1/events", operation("Live UNS events (server-sent events)", .viewer,
                                           parameters: [assetParameter,
                                                        Parameter(name: "type", description: "short (alarm.raised) or full event type"),
                                                        Parameter(name: "values", schema: boolean, description: "also send value updates")],
                                           response: string, responseType: "text/event-stream"))
        add("get", "/v1/products", operation("Products", .viewer, response: items("Product")))
        add("post", "/v1/products", operation("Create or replace a product", .admin, body: ref("Product"),
                                              status: "201", response: ref("Product")))
        add("get", "/v1/products/{id}", operation("One product", .viewer, parameters: [pathParameter("id")], response: ref("Product")))
        add("get", "/v1/workorders", operation("Work orders, newest first", .viewer,
                                               parameters: [assetParameter, Parameter(name: "status", schema: enumeration(WorkOrderStatus.allCases.map(\.rawValue)),
                                                                                      description: "only this status")] + paging,
                                               response: page("WorkOrder")))
        add("post", "/v1/workorders", operation("Create a work order", .operatorRole, body: ref("WorkOrderInput"),
                                                status: "201", response: ref("WorkOrder")))
        add("get", "/v1/workorders/{id}", operation("One work order", .viewer, parameters: [pathParameter("id")],
                                                    response: ref("WorkOrder")))
        for action in WorkOrderAction.allCases {
            add("post", "/v1/workorders/{id}/\(action.rawValue)",
                operation("Work order lifecycle: \(action.rawValue)", .operatorRole, parameters: [pathParameter("id")],
                          response: ref("WorkOrder")))
        }
        add("post", "/v1/workorders/import", operation("ERP import (JSON or CSV), with a per-row error report", .admin,
                                                       body: .object(["oneOf": .array([array(ref("WorkOrderInput")),
                                                                                       object(["workOrders": array(ref("WorkOrderInput"))]),
                                                                                       string])]),
                                                       bodyTypes: ["application/json", "text/csv"],
                                                       response: object(["imported": integer, "failed": integer,
                                                                         "errors": array(object(["row": integer, "id": nullableString,
                                                                                                 "code": string, "message": string],
                                                                                                optional: ["id"]))])))
        add("get", "/v1/workorders/export", operation("ERP export", .viewer,
                                                      parameters: [Parameter(name: "format", schema: enumeration(["json", "csv"]),
                                                                             description: "json (default) or csv")],
                                                      response: .object(["oneOf": .array([object(["workOrders": array(ref("WorkOrder"))]), string])])))
        add("get", "/v1/history", operation("History of one metric, from stream", .viewer,
                                            parameters: [requiredAsset,
                                                         Parameter(name: "metric", required: true, description: "metric name"),
                                                         fromParameter, toParameter,
                                                         Parameter(name: "bucket", description: "500ms, 10s, 1m, 1h, 1d or ms"),
                                                         Parameter(name: "aggregate", description: "comma list of min,max,avg,count,last"),
                                                         Parameter(name: "limit", schema: .object(["type": "integer", "minimum": 1, "maximum": 10000]),
                                                                   description: "samples per page"),
                                                         Parameter(name: "after", schema: integer, description: "next from the previous page")],
                                            response: .object(["type": "object"])))
        add("post", "/v1/ask", operation("Ask the plant assistant (rag-index)", .viewer,
                                         body: object(["question": string, "limit": integer], optional: ["limit"]),
                                         response: .object(["type": "object"])))
        return paths.mapValues { JSONValue.object($0) }
    }

    private static var schemas: [String: JSONValue] {
        let figures = object([
            "availability": nullableNumber, "performance": nullableNumber, "quality": nullableNumber, "oee": nullableNumber,
            "plannedBusySeconds": number, "runSeconds": number, "plannedDowntimeSeconds": number, "unknownSeconds": number,
            "produced": integer, "good": integer, "scrap": integer, "idealProductionSeconds": number,
            "producedWithoutIdealCycle": integer,
            "losses": object(["availabilitySeconds": number, "byState": map(number), "byReason": map(number),
                              "performanceSeconds": nullableNumber, "qualitySeconds": number], optional: ["performanceSeconds"]),
        ], optional: ["availability", "performance", "quality", "oee"])
        return [
            "Error": object(["error": object(["code": enumeration(APIError.Code.allCases.map(\.rawValue)), "message": string])]),
            "Role": enumeration(Role.allCases.map(\.rawValue)),
            "Login": object(["token": string, "user": string, "role": ref("Role"), "expiresAt": dateTime]),
            "User": object(["name": string, "role": ref("Role"), "createdAt": dateTime]),
            "Token": object(["id": string, "name": string, "user": string, "createdAt": dateTime, "lastUsedAt": nullableDateTime],
                            optional: ["lastUsedAt"]),
            "AuditEntry": object(["id": string, "ts": dateTime, "user": string, "action": string, "target": string, "detail": string]),
            "AssetNode": object(["path": string, "name": string, "level": enumeration(["enterprise", "site", "area", "line", "cell"]),
                                 "children": array(ref("AssetNode"))]),
            "LatestValue": object(["asset": string, "metric": string, "value": .object([:]), "unit": nullableString,
                                   "quality": nullableString, "ts": dateTime], optional: ["unit", "quality"]),
            "MachineState": object(["asset": string, "state": string, "previous": nullableString, "since": dateTime,
                                    "reason": nullableString], optional: ["previous", "reason"]),
            "StateInterval": object(["state": nullableString, "start": dateTime, "end": dateTime, "durationSeconds": number,
                                     "reasonCode": nullableString], optional: ["state", "reasonCode"]),
            "Alarm": object(["id": string, "alarmId": string, "asset": string, "metric": string, "severity": string,
                             "threshold": number, "value": number, "message": string, "state": enumeration(["active", "cleared"]),
                             "raisedAt": dateTime, "clearedAt": nullableDateTime, "clearedBy": nullableString,
                             "acknowledged": boolean, "acknowledgedAt": nullableDateTime, "acknowledgedBy": nullableString],
                            optional: ["clearedAt", "clearedBy", "acknowledgedAt", "acknowledgedBy"]),
            "Downtime": object(["id": string, "asset": string, "state": string, "start": dateTime, "end": nullableDateTime,
                                "durationSeconds": number, "reason": nullableString, "reasonCode": nullableString,
                                "planned": boolean, "classifiedBy": nullableString, "classifiedAt": nullableDateTime],
                               optional: ["end", "reason", "reasonCode", "classifiedBy", "classifiedAt"]),
            "Reason": object(["code": string, "name": string, "planned": .object(["type": .array(["boolean", "null"])]),
                              "children": array(ref("Reason"))], optional: ["planned", "children"]),
            "OEEFigures": figures,
            "OEEReport": object(["asset": string, "from": dateTime, "to": dateTime, "overall": ref("OEEFigures"),
                                 "machines": array(object(["asset": string, "figures": ref("OEEFigures")]))]),
            "Product": object(["id": string, "name": string, "idealCycleSeconds": .object(["type": "number", "exclusiveMinimum": 0])]),
            "WorkOrderInput": object(["id": string, "product": string, "quantityTarget": .object(["type": "integer", "minimum": 1]),
                                      "asset": string, "scheduledStart": nullableDateTime, "scheduledEnd": nullableDateTime],
                                     optional: ["scheduledStart", "scheduledEnd"]),
            "WorkOrder": object(["id": string, "product": string, "quantityTarget": integer, "asset": string,
                                 "status": enumeration(WorkOrderStatus.allCases.map(\.rawValue)),
                                 "scheduledStart": nullableDateTime, "scheduledEnd": nullableDateTime,
                                 "createdAt": dateTime, "updatedAt": dateTime, "startedAt": nullableDateTime,
                                 "completedAt": nullableDateTime, "good": integer, "scrap": integer,
                                 "allowedActions": array(enumeration(WorkOrderAction.allCases.map(\.rawValue)))],
                                optional: ["scheduledStart", "scheduledEnd", "startedAt", "completedAt"]),
        ]
    }

    static let document: JSONValue = .object([
        "openapi": "3.1.0",
        "info": .object(["title": "Shopfloor api", "version": .string("0.1.0"),
                         "description": "The MES face of Shopfloor: plant read models from the UNS, work orders, OEE, alarms, users. Errors are {\"error\":{\"code\",\"message\"}}."]),
        "servers": .array([.object(["url": "/"])]),
        "security": .array([.object(["bearer": .array([])])]),
        "components": .object([
            "securitySchemes": .object(["bearer": .object(["type": "http", "scheme": "bearer"])]),
            "schemas": .object(schemas),
        ]),
        "paths": .object(paths),
    ])
}

extension JSONValue {
    /// The members of an object value.
    var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}
