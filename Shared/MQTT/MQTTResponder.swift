/// Serves MQTT 5 requests on a topic filter: each request's handler result is published to the request's
/// Response Topic with its Correlation Data. Requests without a Response Topic are ignored.
public struct MQTTResponder: Sendable {
    /// The filter requests arrive on; may be `$share/<group>/…` so several instances split the load.
    public let requestFilter: String
    private let client: MQTTClient

    /// A responder for `requestFilter` on `client`; nothing is subscribed until `run`.
    public init(client: MQTTClient, requestFilter: String) {
        self.client = client
        self.requestFilter = requestFilter
    }

    /// Subscribes and answers requests one at a time until the task is cancelled. `ready` runs once the
    /// subscription is in place. A throwing handler produces a response with an empty payload and the error
    /// text in the `MQTTRequester.errorProperty` user property.
    public func run(ready: @Sendable () -> Void = {},
                    handler: @escaping @Sendable (MQTTMessage) async throws -> [UInt8]) async throws {
        let (requests, continuation) = AsyncStream.makeStream(of: MQTTMessage.self)
        let routeID = client.connection.addRoute(filter: requestFilter) { continuation.yield($0) }
        defer { client.connection.removeRoute(routeID) }
        try await client.subscribe(to: requestFilter, qos: .atLeastOnce)
        ready()
        for await request in requests {
            guard let responseTopic = request.responseTopic else { continue }
            var response = MQTTMessage(topic: responseTopic, payload: [], qos: .atLeastOnce,
                                       correlationData: request.correlationData)
            do {
                response.payload = try await handler(request)
            } catch {
                response.userProperties = [MQTTUserProperty(MQTTRequester.errorProperty, "\(error)")]
            }
            try await client.publish(response)
        }
        try? await client.unsubscribe(from: requestFilter)
    }
}
