import Foundation
import Testing
import Yams

/// compose.yaml as `docker-compose config` resolves it (no Docker engine needed), with fake secrets.
enum ComposeFile {
    static let secrets: [String: String] = [
        "MQTT_PASSWORD_GATEWAY": "pw-gateway", "MQTT_PASSWORD_STREAM": "pw-stream", "MQTT_PASSWORD_API": "pw-api",
        "MQTT_PASSWORD_SIMULATE": "pw-simulate", "MQTT_PASSWORD_RAG_INDEX": "pw-rag-index",
        "MQTT_PASSWORD_VIEWER": "pw-viewer", "MQTT_PASSWORD_ADMIN": "pw-admin", "POSTGRES_PASSWORD": "pw-postgres",
        "GRAFANA_DB_PASSWORD": "pw-grafana-db", "GRAFANA_ADMIN_PASSWORD": "pw-grafana-admin",
        "EMQX_DASHBOARD_PASSWORD": "pw-emqx-dashboard",
    ]
    /// The five executables and the account each logs in with (stream-primary and stream share `stream`).
    static let shopfloorServices: [String: (account: String, port: Int)] = [
        "simulate": ("simulate", 9103), "gateway": ("gateway", 9101), "stream-primary": ("stream", 9102),
        "stream": ("stream", 9102), "api": ("api", 8080), "rag-index": ("rag-index", 9104),
    ]

    /// `docker-compose config` with every profile, parsed.
    static func resolved() async throws -> [String: Any] {
        let result = try await ChildProcess.run(
            ["docker-compose", "--profile", "emqx", "--profile", "certbot", "-f", Repository.path("compose.yaml"), "config"],
            environment: secrets, inherit: false)
        guard result.status == 0 else {
            throw DeployTestFailure("docker-compose config failed (\(result.status)): \(result.error)")
        }
        guard let root = try Yams.load(yaml: result.output) as? [String: Any] else {
            throw DeployTestFailure("docker-compose config printed no mapping")
        }
        return root
    }

    static func services(_ root: [String: Any]) throws -> [String: [String: Any]] {
        guard let services = root["services"] as? [String: [String: Any]] else {
            throw DeployTestFailure("no services in compose.yaml")
        }
        return services
    }
}

@Suite("compose.yaml (validated with docker-compose config)")
struct ComposeTests {
    @Test("parses with every profile; the broker, the stores, Grafana, the five services, nginx and certbot exist")
    func everyServiceExists() async throws {
        let services = try ComposeFile.services(try await ComposeFile.resolved())
        let expected: Set = ["mosquitto", "emqx", "timescaledb", "grafana", "simulate", "gateway", "stream-primary",
                             "stream", "api", "rag-index", "nginx", "certbot"]
        #expect(Set(services.keys) == expected)
    }

    @Test("every service has a health check")
    func healthChecks() async throws {
        let services = try ComposeFile.services(try await ComposeFile.resolved())
        for (name, service) in services {
            let check = service["healthcheck"] as? [String: Any]
            let test = check?["test"] as? [Any]
            #expect(test?.isEmpty == false, "\(name) has no healthcheck")
        }
        // Our executables are checked on the port they serve, taken from the same service's HTTP_PORT.
        for (name, expected) in ComposeFile.shopfloorServices {
            let service = try #require(services[name])
            let environment = service["environment"] as? [String: Any] ?? [:]
            #expect(environment["HTTP_PORT"] as? String == "\(expected.port)", "\(name) HTTP_PORT")
            let test = (service["healthcheck"] as? [String: Any])?["test"] as? [Any] ?? []
            #expect(test.contains { "\($0)" == "http://127.0.0.1:\(expected.port)/health" }, "\(name) checks \(test)")
        }
    }

    @Test("the five services run one image built from deploy/Dockerfile, each with its own broker account")
    func servicesShareTheImage() async throws {
        let services = try ComposeFile.services(try await ComposeFile.resolved())
        var images: Set<String> = []
        for (name, expected) in ComposeFile.shopfloorServices {
            let service = try #require(services[name])
            images.insert(service["image"] as? String ?? "?")
            let build = service["build"] as? [String: Any]
            #expect(build?["dockerfile"] as? String == "deploy/Dockerfile", "\(name) build")
            let command = service["command"] as? [Any] ?? []
            let executable = name.hasPrefix("stream") ? "stream" : name
            #expect(command.map { "\($0)" }.joined(separator: " ").contains(executable), "\(name) runs \(command)")
            let url = (service["environment"] as? [String: Any])?["MQTT_URL"] as? String ?? ""
            #expect(url.hasPrefix("mqtt://\(expected.account):pw-\(expected.account)@mosquitto:1883"),
                    "\(name) connects as \(url)")
        }
        #expect(images.count == 1, "one image for all five: \(images)")
    }

    @Test("stream scales: a primary plus workers without a fixed name or host port")
    func streamScales() async throws {
        let services = try ComposeFile.services(try await ComposeFile.resolved())
        let worker = try #require(services["stream"])
        let primary = try #require(services["stream-primary"])
        let workerCommand = (worker["command"] as? [Any] ?? []).map { "\($0)" }
        let primaryCommand = (primary["command"] as? [Any] ?? []).map { "\($0)" }
        #expect(workerCommand.contains(["--role", "worker"]))
        #expect(primaryCommand.contains(["--role", "primary"]))
        #expect(worker["container_name"] == nil && worker["ports"] == nil, "--scale stream=3 needs neither")
        #expect((worker["environment"] as? [String: Any])?["INSTANCE"] == nil, "replicas need distinct instances")
        let store = (worker["environment"] as? [String: Any])?["STREAM_STORE"] as? String ?? ""
        #expect(store.hasPrefix("postgres://") && store.contains("@timescaledb:5432/"))
        #expect(store == (primary["environment"] as? [String: Any])?["STREAM_STORE"] as? String)
    }

    @Test("profiles: EMQX and certbot only on request, everything else by default")
    func profiles() async throws {
        let services = try ComposeFile.services(try await ComposeFile.resolved())
        for (name, service) in services {
            let profiles = service["profiles"] as? [String]
            switch name {
            case "emqx": #expect(profiles == ["emqx"])
            case "certbot": #expect(profiles == ["certbot"])
            default: #expect(profiles == nil, "\(name) should start by default")
            }
        }
    }

    @Test("a missing secret stops compose with a message saying how to create it")
    func missingSecret() async throws {
        var environment = ComposeFile.secrets
        environment["MQTT_PASSWORD_GATEWAY"] = ""
        let result = try await ChildProcess.run(["docker-compose", "-f", Repository.path("compose.yaml"), "config"],
                                                environment: environment, inherit: false)
        #expect(result.status != 0)
        #expect(result.error.contains("scripts/compose-env.sh"), "\(result.error)")
    }

    @Test("published ports: broker 1883/8883, HTTPS 443, nothing of the services bypasses nginx")
    func ports() async throws {
        let services = try ComposeFile.services(try await ComposeFile.resolved())
        func published(_ name: String) -> [Int] {
            (services[name]?["ports"] as? [Any] ?? []).compactMap { entry -> Int? in
                if let mapping = entry as? [String: Any] { return Int("\(mapping["target"] ?? "")") }
                return Int("\(entry)".split(separator: ":").last ?? "")
            }
        }
        #expect(Set(published("mosquitto")) == [1883, 8883])
        #expect(Set(published("nginx")) == [80, 443])
        for name in ComposeFile.shopfloorServices.keys { #expect(published(name).isEmpty, "\(name) publishes a port") }
        #expect(published("grafana").isEmpty && published("timescaledb").isEmpty)
    }

    @Test("the runtime image is slim: debian:bookworm-slim with runtime libraries only")
    func dockerfile() throws {
        let text = try String(contentsOfFile: Repository.path("deploy/Dockerfile"), encoding: .utf8)
        let stages = text.components(separatedBy: "\nFROM ")
        #expect(stages.count == 3, "two stages")
        let runtime = stages.last ?? ""
        #expect(runtime.hasPrefix("debian:bookworm-slim"))
        for library in ["libmosquitto1", "libpq5", "libsqlite3-0", "libprotobuf-c1", "libopenblas0", "ca-certificates"] {
            #expect(runtime.contains(library), "runtime lacks \(library)")
        }
        #expect(!runtime.contains("-dev"), "a -dev package in the runtime image")
        #expect(text.contains("ARG SWIFT_IMAGE=swift:6.") && stages[1].contains("--static-swift-stdlib"))
        #expect(runtime.contains("USER shopfloor"), "runs as root")
    }
}
