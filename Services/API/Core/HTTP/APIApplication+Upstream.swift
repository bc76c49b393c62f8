import EventSchema
import Foundation
import Hummingbird
import MQTT

extension APIApplication {
    /// History (asks `stream`) and questions (asks `rag-index`), both over MQTT 5 request/response.
    func registerUpstreamRoutes(on router: Router<BasicRequestContext>) {
        add(router, .get, "/v1/history", role: .viewer) { [self] request, _, _ in
            let query = Query(request)
            guard let asset = try query.asset() else {
                throw APIError(.invalidParameter, "query parameter \"asset\" is required: the ISA-95 path of the series")
            }
            let metric = try query.required("metric", expected: "the metric name as in its UNS value topic, e.g. temperature")
            var body: [String: JSONValue] = ["asset": .string(asset.description), "metric": .string(metric)]
            if let from = try query.time("from") { body["from"] = .integer(Int(from)) }
            if let to = try query.time("to") { body["to"] = .integer(Int(to)) }
            if let bucket = query.string("bucket") { body["bucket"] = .string(bucket) }
            if let aggregate = query.string("aggregate") {
                body["aggregate"] = .array(aggregate.split(separator: ",").map { .string(String($0)) })
            }
            body["limit"] = .integer(try query.integer("limit", default: 1000, range: 1...10_000))
            if let after = query.string("after") {
                guard let ms = Int(after) else { throw APIError.parameter("after", after, expected: "the \"next\" value of the previous page (ms)") }
                body["after"] = .integer(ms)
            }
            return try await ask(service: "stream", verb: "history", body: .object(body), what: "history request")
        }
        add(router, .post, "/v1/ask", role: .viewer) { [self] request, _, _ in
            struct Body: Decodable { var question: String; var limit: Int? }
            let body = try await HTTPJSON.decode(Body.self, from: request)
            guard !body.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, body.question.count <= 4000 else {
                throw APIError(.invalidParameter, "question must be 1…4000 characters of text")
            }
            let limit = body.limit ?? 5
            guard (1...50).contains(limit) else { throw APIError.parameter("limit", "\(limit)", expected: "an integer in 1…50") }
            return try await ask(service: "rag-index", verb: "ask",
                                 body: .object(["question": .string(body.question), "limit": .integer(limit)]),
                                 what: "question")
        }
    }

    /// Sends `body` to `<prefix>/_svc/<service>/<verb>` and relays the JSON answer; 504 when nobody answers
    /// within `--request-timeout-ms`, 400 when the service rejected the request, 502 when it answered nonsense.
    func ask(service: String, verb: String, body: JSONValue, what: String) async throws -> Response {
        let topic = try UNSTopic.service(service, verb: verb, prefix: runtime.unsPrefix).description
        guard client.isConnected else {
            throw APIError(.unavailable, "the api is not connected to the MQTT broker, so \(service) cannot be asked")
        }
        let payload = Array(try JSONEncoder().encode(body))
        let response: MQTTMessage
        do {
            var message = MQTTMessage(topic: topic, payload: payload, qos: .atLeastOnce)
            message.contentType = "application/json"
            response = try await requester.request(message, timeout: config.requestTimeout)
        } catch let error as MQTTError where error.code == .timeout {
            throw APIError(.upstreamTimeout, "\(service) did not answer the \(what) on \(topic) within "
                + "\(config.requestTimeout); is \(service) running?")
        } catch let error as MQTTError where error.code == .remoteFailure {
            throw APIError(.badRequest, "\(service) rejected the \(what): \(error.message)")
        }
        guard (try? JSONValue(parsing: Data(response.payload))) != nil else {
            throw APIError(.upstreamFailure, "\(service) answered the \(what) with something that is not JSON")
        }
        return HTTPJSON.raw(response.payload)
    }
}
