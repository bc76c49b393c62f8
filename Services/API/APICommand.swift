import APICore
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime

/// `api`: The MES face: REST API, dashboard, work orders, OEE, alarms.
@main
struct APICommand: ShopfloorCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "The MES face: REST API, dashboard, work orders, OEE, alarms.",
        version: ShopfloorVersion.current,
        subcommands: [AdminCommand.self])
    static let serviceName = "api"
    static let defaultHTTPPort = 8080

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var api: APIOptions

    func services(config: RuntimeConfig, health: HealthChecks, logger: Logger) async throws -> [any Service] {
        []
    }

    /// Like `ShopfloorCommand.run`, except that the HTTP server carries the api's routes next to `/health`
    /// and `/metrics`.
    func run() async throws {
        let config = try RuntimeConfig(service: Self.serviceName, options: runtime,
                                       environment: ProcessInfo.processInfo.environment,
                                       defaultHTTPPort: Self.defaultHTTPPort)
        let logger = Observability.bootstrap(config)
        let apiConfig = try APIConfig(flags: api.flags, environment: ProcessInfo.processInfo.environment,
                                      defaultPublicDirectory: Bundle.module.url(forResource: "Public", withExtension: nil)?.path)
        logger.info("starting", metadata: ["config": "\(config)", "api": "\(apiConfig)", "version": "\(ShopfloorVersion.current)"])
        let health = HealthChecks()
        let status = try ServiceStatusPublisher(config: config, health: health, logger: logger)
        let app = try await APIApplication.build(config: apiConfig, runtime: config, health: health, logger: logger)
        try await ServiceRunner.run([status] + app.services(health: health), logger: logger)
        await app.store.close()
    }
}

/// The api's own flags (see `APIConfig` for environment variables and defaults).
struct APIOptions: ParsableArguments {
    @Option(name: .customLong("store"), help: "sqlite:PATH or postgres://user:pass@host:port/db (API_STORE; default sqlite:api.db)")
    var store: String?
    @Option(name: .customLong("reason-tree"), help: "JSON file of downtime reason codes (API_REASON_TREE; default built-in)")
    var reasonTree: String?
    @Option(name: .customLong("request-timeout-ms"), help: "wait for stream/rag-index answers, ms (API_REQUEST_TIMEOUT_MS; default 5000)")
    var requestTimeoutMS: String?
    @Option(name: .customLong("session-hours"), help: "login session lifetime (API_SESSION_HOURS; default 12)")
    var sessionHours: String?
    @Option(name: .customLong("public-dir"), help: "directory served at / (API_PUBLIC_DIR; default the bundled dashboard)")
    var publicDirectory: String?
    @Option(name: .customLong("mqtt-client-id"),
            help: "client id of the UNS feed's persistent session (API_MQTT_CLIENT_ID; default shopfloor-api-<instance>-<store hash>)")
    var mqttClientID: String?
    @Option(name: .customLong("mqtt-session-expiry"), help: "seconds the broker keeps the feed's session while api is away (API_MQTT_SESSION_EXPIRY; default 86400)")
    var sessionExpiry: String?
    @Option(name: .customLong("dedup-days"), help: "days processed event ids are kept for deduplication (API_DEDUP_DAYS; default 7)")
    var dedupDays: String?

    var flags: APIFlags {
        APIFlags(store: store, reasonTree: reasonTree, requestTimeoutMS: requestTimeoutMS, sessionHours: sessionHours,
                 publicDirectory: publicDirectory, mqttClientID: mqttClientID, sessionExpiry: sessionExpiry,
                 dedupDays: dedupDays)
    }
}

/// `api admin …`: administration without a running server.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin", abstract: "Manage users directly in the store.",
                                                    subcommands: [CreateAdmin.self])

    /// The root command, whose `--store` (and API_STORE) the subcommands use.
    @ParentCommand var root: APICommand
}

/// `api admin create --user NAME [--password-file F]`: the first admin (there is never a default password).
struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a user (by default an admin); the password comes from a file or stdin.")

    @Option(name: .customLong("user"), help: "user name")
    var user: String
    @Option(name: .customLong("password-file"), help: "file whose first line is the password (default: read stdin)")
    var passwordFile: String?
    @Option(name: .customLong("role"), help: "admin, operator or viewer (default admin)")
    var role: String = "admin"
    /// `--store` is the root command's (`api --store URL admin create …` or API_STORE).
    @ParentCommand var admin: AdminCommand

    func run() async throws {
        guard let role = Role(rawValue: role) else {
            throw ValidationError("--role \"\(role)\" is not admin, operator or viewer")
        }
        let text: String
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw ValidationError("--password-file \"\(passwordFile)\" cannot be read")
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = readLine(strippingNewline: true) ?? ""
        }
        let password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
            .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        let config = try APIConfig(flags: APIFlags(store: admin.root.api.store), environment: ProcessInfo.processInfo.environment,
                                   defaultPublicDirectory: nil)
        let store = try await APIStore.open(config.store, logger: Logger(label: "api.admin"))
        do {
            let created = try await store.createUser(name: user, role: role, password: password)
            try await store.audit(user: "cli", action: "user.create", target: user, detail: "role \(role.rawValue); via api admin create")
            await store.close()
            print("created \(created.role.rawValue) \"\(created.name)\"")
        } catch let error as APIError {
            await store.close()
            throw ValidationError(error.message)
        }
    }
}
