import Foundation
import Testing
import Yams

/// deploy/k8s as `kubectl kustomize` renders it (offline, no cluster).
enum KustomizeOutput {
    static func objects() async throws -> [[String: Any]] {
        let result = try await ChildProcess.run(["kubectl", "kustomize", Repository.path("deploy/k8s")])
        guard result.status == 0 else {
            throw DeployTestFailure("kubectl kustomize failed (\(result.status)): \(result.error)")
        }
        return try Yams.load_all(yaml: result.output).compactMap { $0 as? [String: Any] }
    }

    static func named(_ objects: [[String: Any]], kind: String, _ name: String) throws -> [String: Any] {
        let found = objects.first { $0["kind"] as? String == kind && metadata($0)["name"] as? String == name }
        return try #require(found, "no \(kind) \(name)")
    }

    static func metadata(_ object: [String: Any]) -> [String: Any] { object["metadata"] as? [String: Any] ?? [:] }

    /// The first container of a Deployment or StatefulSet.
    static func container(_ workload: [String: Any]) -> [String: Any] {
        let spec = workload["spec"] as? [String: Any]
        let template = spec?["template"] as? [String: Any]
        let podSpec = template?["spec"] as? [String: Any]
        return (podSpec?["containers"] as? [[String: Any]])?.first ?? [:]
    }

    static func environment(_ container: [String: Any]) -> [String: [String: Any]] {
        var result: [String: [String: Any]] = [:]
        for entry in container["env"] as? [[String: Any]] ?? [] {
            if let name = entry["name"] as? String { result[name] = entry }
        }
        return result
    }
}

@Suite("deploy/k8s (validated with kubectl kustomize)")
struct KubernetesTests {
    /// Kubernetes workload → compose service running the same thing.
    static let workloads: [String: String] = [
        "simulate": "simulate", "gateway": "gateway", "stream-primary": "stream-primary", "stream-worker": "stream",
        "api": "api", "rag-index": "rag-index",
    ]

    @Test("renders; every object has a kind, a name and the shopfloor namespace")
    func renders() async throws {
        let objects = try await KustomizeOutput.objects()
        #expect(objects.count >= 15)
        for object in objects {
            let metadata = KustomizeOutput.metadata(object)
            let kind = object["kind"] as? String ?? "?"
            #expect(object["apiVersion"] is String && metadata["name"] is String, "\(kind) lacks apiVersion or name")
            if kind != "Namespace" {
                #expect(metadata["namespace"] as? String == "shopfloor", "\(kind) \(metadata["name"] ?? "")")
            }
        }
    }

    @Test("images and HTTP ports are those of compose.yaml; readiness on /health, liveness on the port")
    func consistentWithCompose() async throws {
        let objects = try await KustomizeOutput.objects()
        let compose = try ComposeFile.services(try await ComposeFile.resolved())
        for (workload, service) in Self.workloads {
            let deployment = try KustomizeOutput.named(objects, kind: "Deployment", workload)
            let container = KustomizeOutput.container(deployment)
            let composeService = try #require(compose[service])
            #expect(container["image"] as? String == composeService["image"] as? String, "\(workload) image")
            let ports = container["ports"] as? [[String: Any]] ?? []
            let http = ports.first { $0["name"] as? String == "http" }?["containerPort"] as? Int
            let composePort = (composeService["environment"] as? [String: Any])?["HTTP_PORT"] as? String
            #expect(http.map(String.init) == composePort, "\(workload) port \(http ?? 0) vs compose \(composePort ?? "")")
            #expect(KustomizeOutput.environment(container)["HTTP_PORT"]?["value"] as? String == composePort)
            let ready = (container["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any]
            #expect(ready?["path"] as? String == "/health" && ready?["port"] as? String == "http", "\(workload) readiness")
            // Liveness must not follow the broker's or the database's health, or an outage restarts every pod.
            for probe in ["startupProbe", "livenessProbe"] {
                let socket = (container[probe] as? [String: Any])?["tcpSocket"] as? [String: Any]
                #expect(socket?["port"] as? String == "http", "\(workload) \(probe)")
            }
            let url = KustomizeOutput.environment(container)["MQTT_URL"]?["value"] as? String ?? ""
            let account = (deployment["metadata"] as? [String: Any]).flatMap { ($0["labels"] as? [String: Any])?["app.kubernetes.io/component"] as? String } ?? "?"
            #expect(url == "mqtt://\(account):$(MQTT_PASSWORD)@mosquitto:1883", "\(workload) MQTT_URL \(url)")
        }
        for name in ["mosquitto", "timescaledb"] {
            let set = try KustomizeOutput.named(objects, kind: "StatefulSet", name)
            #expect(KustomizeOutput.container(set)["image"] as? String == compose[name]?["image"] as? String, "\(name) image")
        }
    }

    @Test("stream: one primary that is never doubled, workers scaled on CPU by a HorizontalPodAutoscaler")
    func streamRoles() async throws {
        let objects = try await KustomizeOutput.objects()
        let primary = try KustomizeOutput.named(objects, kind: "Deployment", "stream-primary")
        let primarySpec = primary["spec"] as? [String: Any] ?? [:]
        #expect(primarySpec["replicas"] as? Int == 1)
        #expect((primarySpec["strategy"] as? [String: Any])?["type"] as? String == "Recreate")
        #expect((KustomizeOutput.container(primary)["args"] as? [String])?.contains("primary") == true)
        let worker = try KustomizeOutput.named(objects, kind: "Deployment", "stream-worker")
        let args = KustomizeOutput.container(worker)["args"] as? [String] ?? []
        #expect(args.contains(["--role", "worker"]))
        let instance = KustomizeOutput.environment(KustomizeOutput.container(worker))["INSTANCE"]
        #expect(instance?["valueFrom"] != nil, "each worker pod needs its own instance name")
        let resources = KustomizeOutput.container(worker)["resources"] as? [String: Any]
        #expect((resources?["requests"] as? [String: Any])?["cpu"] != nil, "CPU autoscaling needs a CPU request")
        let autoscaler = try KustomizeOutput.named(objects, kind: "HorizontalPodAutoscaler", "stream-worker")
        let spec = autoscaler["spec"] as? [String: Any] ?? [:]
        let target = spec["scaleTargetRef"] as? [String: Any]
        #expect(target?["kind"] as? String == "Deployment" && target?["name"] as? String == "stream-worker")
        let metric = (spec["metrics"] as? [[String: Any]])?.first?["resource"] as? [String: Any]
        #expect(metric?["name"] as? String == "cpu")
        #expect((spec["maxReplicas"] as? Int ?? 0) > (spec["minReplicas"] as? Int ?? 0))
    }

    @Test("secrets: every key referenced exists in what scripts/compose-env.sh writes; broker config in a ConfigMap")
    func secretsAndConfigMaps() async throws {
        let folder = try Repository.temporaryFolder("secrets")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("compose.env").path
        let generated = try await ChildProcess.run([Repository.path("scripts/compose-env.sh"), file])
        #expect(generated.status == 0)
        let keys = Set(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: "=").first.map(String.init) })
        let rendered = try await ChildProcess.run(["kubectl", "kustomize", Repository.path("deploy/k8s")])
        let referenced = rendered.output.components(separatedBy: "key: ").dropFirst()
            .compactMap { $0.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).first.map(String.init) }
        #expect(!referenced.isEmpty)
        for key in referenced { #expect(keys.contains(key), "secret key \(key) is not generated") }
        #expect(rendered.output.contains("name: shopfloor-secrets"))
        let objects = try await KustomizeOutput.objects()
        let config = try #require(objects.first {
            $0["kind"] as? String == "ConfigMap" && (KustomizeOutput.metadata($0)["name"] as? String ?? "").hasPrefix("mosquitto-config")
        })
        let data = config["data"] as? [String: Any] ?? [:]
        #expect(Set(data.keys) == ["mosquitto.conf", "acl", "docker-entrypoint.sh"])
        #expect((data["mosquitto.conf"] as? String)?.contains("allow_anonymous false") == true)
    }

    @Test("deploy/k8s/files are copies of the files compose uses")
    func copiesAreCurrent() throws {
        let pairs = [("deploy/k8s/files/mosquitto.conf", "deploy/mosquitto/container.conf"),
                     ("deploy/k8s/files/acl", "deploy/mosquitto/acl"),
                     ("deploy/k8s/files/mosquitto-entrypoint.sh", "deploy/mosquitto/docker-entrypoint.sh"),
                     ("deploy/k8s/files/10-grafana-reader.sh", "deploy/timescaledb/10-grafana-reader.sh")]
        for (copy, original) in pairs {
            let a = try String(contentsOfFile: Repository.path(copy), encoding: .utf8)
            let b = try String(contentsOfFile: Repository.path(original), encoding: .utf8)
            #expect(a == b, "cp \(original) \(copy)")
        }
    }
}
