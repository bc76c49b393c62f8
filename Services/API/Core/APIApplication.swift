import EventSchema
import Foundation
import Hummingbird
import Logging
import MQTT
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// The api assembled: store, UNS feed, MQTT publisher and requester, and the HTTP routes. The executable
/// and the tests build it the same way (`build`), then run `services` (the feed, then the HTTP server).
public final class APIApplication: Sendable {
    public let config: APIConfig
    public let runtime: RuntimeConfig
    public let store: APIStore
    public let cache: LatestValueCache
    public let hub: EventHub
    public let client: MQTTClient
    public let requester: MQTTRequester
    public let feed: UNSFeed
    /// Publishes the work-order events committed to the store's outbox.
    public let outbox: OutboxRelay
    public let routes = RouteTable()
    let logger: Logger
    let throttle = LoginThrottle()
    let principals = PrincipalCache()
    /// CloudEvents `source` of the events this instance publishes.
    let source: String

    private init(config: APIConfig, runtime: RuntimeConfig, store: APIStore, client: MQTTClient, mqtt: MQTTConfiguration,
                 requester: MQTTRequester, logger: Logger) {
        self.config = config
        self.runtime = runtime
        self.store = store
        self.client = client
        self.requester = requester
        self.logger = logger
        cache = LatestValueCache()
        hub = EventHub()
        source = "/shopfloor/api/\(runtime.instance)"
        // The feed has a client of its own: a fixed id and a persistent session, so events published while
        // the api is stopped are queued by the broker (see `UNSFeed`).
        var ingest = mqtt
        ingest.clientID = config.mqttClientID(runtime: runtime)
        ingest.makePersistent(sessionExpiry: config.sessionExpiry)
        feed = UNSFeed(ingest: ingest, store: store, cache: cache, hub: hub, prefix: runtime.unsPrefix, logger: logger,
                       dedupWindow: config.dedupWindow)
        outbox = OutboxRelay(store: store, client: client, logger: logger)
    }

    /// Opens the store, creates the MQTT client (connecting in the background) and the requester.
    public static func build(config: APIConfig, runtime: RuntimeConfig, health: HealthChecks,
                             logger: Logger) async throws -> APIApplication {
        let store = try await APIStore.open(config.store, logger: logger)
        health.set("store", healthy: true, detail: "\(config.store)")
        let broker = runtime.broker
        let mqtt = MQTTConfiguration(host: broker.host, port: broker.port,
                                     clientID: "api-\(runtime.instance)-\(UUID().uuidString.prefix(8).lowercased())",
                                     username: broker.username, password: broker.password,
                                     tls: broker.usesTLS ? .init() : nil, receiveMaximum: 1000)
        let client = try MQTTClient(configuration: mqtt, logger: logger)
        client.start()
        let replyTopic = "\(runtime.unsPrefix)/\(UNSTopic.serviceRoot)/_reply/api-\(UUID().uuidString.lowercased())"
        let requester = try await MQTTRequester(client: client, responseTopic: replyTopic)
        return APIApplication(config: config, runtime: runtime, store: store, client: client, mqtt: mqtt,
                              requester: requester, logger: logger)
    }

    /// The router with `/health`, `/metrics`, every api route, the JSON error shape and the static files.
    public func router(health: HealthChecks) -> Router<BasicRequestContext> {
        let router = ObservabilityServer.router(config: runtime, health: health)
        router.add(middleware: JSONErrorMiddleware())
        if let directory = config.publicDirectory {
            router.add(middleware: FileMiddleware(directory, searchForIndexHtml: true, logger: logger))
        }
        registerRoutes(on: router)
        return router
    }

    /// The services to run, in dependency order: the UNS feed, the outbox relay, then the HTTP server
    /// (stopped first).
    public func services(health: HealthChecks,
                         onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> [any Service] {
        [feed, outbox, ObservabilityServer.service(config: runtime, router: router(health: health), logger: logger,
                                           onRunning: onRunning),
         Closer(app: self)]
    }

    /// Shutdown runs in reverse order, so this is told first: it ends every live SSE stream so open
    /// `/v1/events` responses complete and the HTTP server can drain before the feed stops.
    struct Closer: Service {
        let app: APIApplication
        func run() async throws {
            try? await gracefulShutdown()
            app.hub.finishAll()
        }
    }
}

/// Bearer digest → principal, for a few seconds, so the hot read endpoints do not query the store on every
/// request. Cleared on logout, token revocation and user deletion.
final class PrincipalCache: Sendable {
    private let entries = Mutex<[String: (Principal, Int64)]>([:])
    let ttlMS: Int64 = 10_000

    func get(_ digest: String, now: Int64 = Millis.now()) -> Principal? {
        entries.withLock { entries in
            guard let (principal, expires) = entries[digest] else { return nil }
            if expires < now { entries[digest] = nil; return nil }
            return principal
        }
    }

    func put(_ digest: String, _ principal: Principal, now: Int64 = Millis.now()) {
        entries.withLock { entries in
            if entries.count > 10_000 { entries = [:] }
            entries[digest] = (principal, now + ttlMS)
        }
    }

    func clear() { entries.withLock { $0 = [:] } }
}
