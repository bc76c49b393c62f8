import Foundation
import Testing

@Suite("nginx and Grafana configuration")
struct ProxyAndDashboardTests {
    /// Renders the template as the nginx image does (envsubst of the given variables only) and has the real
    /// nginx check it, with the compose host names pointed at 127.0.0.1 and a throw-away certificate.
    @Test("the nginx template renders to a configuration nginx -t accepts")
    func nginxAcceptsTheTemplate() async throws {
        let folder = try Repository.temporaryFolder("nginx")
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificate = folder.appendingPathComponent("server.crt").path
        let key = folder.appendingPathComponent("server.key").path
        let openssl = try await ChildProcess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", certificate])
        #expect(openssl.status == 0, "\(openssl.error)")
        let rendered = try await ChildProcess.run(
            ["sh", "-c", "envsubst '${PUBLIC_HOST} ${TLS_CERTIFICATE} ${TLS_CERTIFICATE_KEY}' < deploy/nginx/shopfloor.conf.template"],
            environment: ["PUBLIC_HOST": "plant.example.com", "TLS_CERTIFICATE": certificate, "TLS_CERTIFICATE_KEY": key])
        #expect(rendered.status == 0)
        #expect(rendered.output.contains("$host$request_uri"), "nginx variables must survive envsubst")
        #expect(rendered.output.contains("server_name plant.example.com;"))
        let site = rendered.output
            .replacingOccurrences(of: "http://grafana:3000", with: "http://127.0.0.1:3000")
            .replacingOccurrences(of: "http://api:8080", with: "http://127.0.0.1:8080")
            .replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:18080;")
            .replacingOccurrences(of: "listen 443 ssl http2;", with: "listen 127.0.0.1:18443 ssl http2;")
            .replacingOccurrences(of: "listen [::]:80;", with: "")
            .replacingOccurrences(of: "listen [::]:443 ssl http2;", with: "")
        let main = """
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/error.log;
            events {}
            http {
                access_log off;
                \(site)
            }
            """
        let config = folder.appendingPathComponent("nginx.conf")
        try main.write(to: config, atomically: true, encoding: .utf8)
        let check = try await ChildProcess.run(["nginx", "-t", "-p", folder.path, "-c", config.path])
        #expect(check.status == 0, "nginx -t: \(check.error)")
    }

    @Test("Grafana: four provisioned dashboards on the TimescaleDB datasource, reading stream's tables")
    func dashboards() throws {
        let folder = Repository.path("deploy/grafana/dashboards")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files == ["alarms.json", "machine-detail.json", "oee.json", "plant-overview.json"])
        var uids: Set<String> = []
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(file))
            let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(file)")
            uids.insert(dashboard["uid"] as? String ?? "")
            let panels = dashboard["panels"] as? [[String: Any]] ?? []
            #expect(!panels.isEmpty, "\(file) has no panels")
            for panel in panels {
                let targets = panel["targets"] as? [[String: Any]] ?? []
                for target in targets {
                    let source = target["datasource"] as? [String: Any]
                    #expect(source?["uid"] as? String == "shopfloor-tsdb", "\(file): \(panel["title"] ?? "")")
                    let sql = target["rawSql"] as? String ?? ""
                    #expect(sql.contains("series") || sql.contains("samples"), "\(file): \(sql)")
                }
            }
        }
        #expect(uids.count == files.count, "dashboard uids must be unique")
        let datasource = try String(contentsOfFile: Repository.path("deploy/grafana/provisioning/datasources/timescaledb.yaml"),
                                    encoding: .utf8)
        #expect(datasource.contains("uid: shopfloor-tsdb") && datasource.contains("user: grafana_reader"))
    }
}
