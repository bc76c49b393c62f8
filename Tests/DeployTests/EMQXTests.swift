import Foundation
import Testing

/// deploy/emqx/docker-entrypoint.sh run on this machine (no Docker engine): the users and the ACL it hands EMQX,
/// the ACL parsed by Erlang itself (Debian `erlang-base`, the same `file:consult/1` EMQX's file authorizer uses).
@Suite("EMQX profile: the same accounts and ACL as mosquitto")
struct EMQXTests {
    /// One EMQX rule: `{allow, {username, User}, Action, [Filter]}`.
    struct Rule: Equatable {
        let user: String
        let action: String
        let filter: String
    }

    struct Generated {
        let folder: URL
        let environment: String
        let users: String
        let rules: [Rule]
        let lastRule: String
    }

    /// Runs the entry point with compose's fake secrets; its command prints the environment it hands EMQX.
    static func generate(acl: String = Repository.path("deploy/mosquitto/acl")) async throws
        -> (status: Int32, error: String, generated: Generated?) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("emqx-\(UUID().uuidString)")
        var environment = ComposeFile.secrets
        environment["SHOPFLOOR_ACL"] = acl
        environment["SHOPFLOOR_OUT"] = folder.path
        let run = try await ChildProcess.run(["sh", Repository.path("deploy/emqx/docker-entrypoint.sh"), "env"],
                                             environment: environment, inherit: false)
        guard run.status == 0 else { return (run.status, run.error, nil) }
        let users = try String(contentsOf: folder.appendingPathComponent("users.csv"), encoding: .utf8)
        let aclConf = folder.appendingPathComponent("acl.conf").path
        let consult = try await ChildProcess.run(
            ["erl", "-noshell", "-eval", """
             {ok, Terms} = file:consult("\(aclConf)"),
             [io:format("~s\\t~s\\t~s~n", [U, A, F]) || {allow, {username, U}, A, Fs} <- Terms, F <- Fs],
             io:format("last\\t~w~n", [lists:last(Terms)]),
             halt().
             """], inherit: false)
        guard consult.status == 0 else {
            throw DeployTestFailure("Erlang cannot read acl.conf (\(consult.status)): \(consult.output) \(consult.error)")
        }
        var rules: [Rule] = []
        var lastRule = ""
        for line in consult.output.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields.count == 2, fields[0] == "last" { lastRule = fields[1] }
            if fields.count == 3 { rules.append(Rule(user: fields[0], action: fields[1], filter: fields[2])) }
        }
        return (0, run.error, Generated(folder: folder, environment: run.output, users: users, rules: rules,
                                        lastRule: lastRule))
    }

    /// MQTT filter matching (MQTT 3.1.1 §4.7), as EMQX applies a rule: wildcards never match a `$` topic.
    static func matches(_ filter: String, _ topic: String) -> Bool {
        let filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        let topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.hasPrefix("$"), filter.first == "+" || filter.first == "#" { return false }
        for (index, level) in filterLevels.enumerated() {
            if level == "#" { return true }
            guard index < topicLevels.count else { return false }
            if level != "+", level != topicLevels[index] { return false }
        }
        return filterLevels.count == topicLevels.count
    }

    @Test("every account gets its password from MQTT_PASSWORD_*; nothing is a superuser")
    func users() async throws {
        let result = try await Self.generate()
        let generated = try #require(result.generated, "entry point failed: \(result.error)")
        defer { try? FileManager.default.removeItem(at: generated.folder) }
        let lines = generated.users.split(separator: "\n").map(String.init)
        #expect(lines.first == "user_id,password,is_superuser")
        let expected = ["gateway", "stream", "api", "simulate", "rag-index", "viewer", "admin"].map { account in
            let variable = "MQTT_PASSWORD_" + account.uppercased().replacingOccurrences(of: "-", with: "_")
            return "\(account),\(ComposeFile.secrets[variable] ?? "?"),false"
        }
        #expect(Array(lines.dropFirst()) == expected)
        #expect(generated.environment.contains("bootstrap_file = \"\(generated.folder.path)/users.csv\""))
        #expect(generated.environment.contains("backend = built_in_database"))
        #expect(generated.environment.contains("EMQX_AUTHORIZATION__NO_MATCH=deny"))
        #expect(generated.environment.contains("path = \"\(generated.folder.path)/acl.conf\""))
    }

    @Test("the ACL is mosquitto's, rule for rule, and ends by denying everything else")
    func aclIsMosquittos() async throws {
        let result = try await Self.generate()
        let generated = try #require(result.generated, "entry point failed: \(result.error)")
        defer { try? FileManager.default.removeItem(at: generated.folder) }
        let mosquitto = try String(contentsOfFile: Repository.path("deploy/mosquitto/acl"), encoding: .utf8)
        var expected: [Rule] = []
        var user = ""
        for line in mosquitto.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "user", words.count == 2 { user = words[1] }
            if words.first == "topic", words.count == 3 {
                let action = ["read": "subscribe", "write": "publish", "readwrite": "all"][words[1]] ?? "?"
                expected.append(Rule(user: user, action: action, filter: words[2]))
            }
        }
        #expect(expected.count > 50)
        #expect(generated.rules == expected)
        #expect(generated.lastRule == "{deny,all}")
        let viewerReads = generated.rules.filter { $0.user == "viewer" }
        #expect(viewerReads == [Rule(user: "viewer", action: "subscribe", filter: "uns/v1/#")])
    }

    @Test("each account publishes exactly where the mosquitto ACL tests say it may", arguments: AccountCase.all)
    func publishRights(_ role: AccountCase) async throws {
        let result = try await Self.generate()
        let generated = try #require(result.generated, "entry point failed: \(result.error)")
        defer { try? FileManager.default.removeItem(at: generated.folder) }
        let publishable = generated.rules.filter { $0.user == role.account && $0.action != "subscribe" }
        for topic in role.allowed {
            #expect(publishable.contains { Self.matches($0.filter, topic) }, "\(role.account) cannot publish \(topic)")
        }
        for topic in role.denied {
            #expect(!publishable.contains { Self.matches($0.filter, topic) }, "\(role.account) may publish \(topic)")
        }
    }

    @Test("an ACL line it cannot translate stops the container with the line, instead of a broker without rules")
    func malformedACL() async throws {
        let acl = FileManager.default.temporaryDirectory.appendingPathComponent("acl-\(UUID().uuidString)")
        try "user gateway\ntopic publish spBv1.0/#\n".write(to: acl, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: acl) }
        let result = try await Self.generate(acl: acl.path)
        #expect(result.status != 0)
        #expect(result.error.contains("cannot translate ACL line 2: topic publish spBv1.0/#"), "\(result.error)")
    }

    @Test("compose runs EMQX through the entry point with mosquitto's ACL and every account's password")
    func composeWiring() async throws {
        let services = try ComposeFile.services(try await ComposeFile.resolved())
        let emqx = try #require(services["emqx"])
        #expect(emqx["entrypoint"] as? [String] == ["/bin/sh", "/docker-entrypoint-shopfloor.sh"])
        #expect((emqx["command"] as? [String])?.suffix(2) == ["/opt/emqx/bin/emqx", "foreground"])
        let volumes = (emqx["volumes"] as? [String]) ?? []
        #expect(volumes.contains { $0.hasSuffix("deploy/emqx/docker-entrypoint.sh:/docker-entrypoint-shopfloor.sh:ro") })
        #expect(volumes.contains { $0.hasSuffix("deploy/mosquitto/acl:/opt/emqx/etc/shopfloor/acl:ro") })
        let environment = (emqx["environment"] as? [String: Any]) ?? [:]
        for (name, value) in ComposeFile.secrets where name.hasPrefix("MQTT_PASSWORD_") {
            #expect(environment[name] as? String == value, "\(name)")
        }
        #expect(environment["EMQX_DASHBOARD__DEFAULT_PASSWORD"] as? String == "pw-emqx-dashboard")
    }
}
