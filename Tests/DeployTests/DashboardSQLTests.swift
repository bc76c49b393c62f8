import Foundation
import Testing

/// Runs the Grafana dashboards' SQL against a real PostgreSQL holding stream's tables (series, samples,
/// samples_1m, samples_1h) in a schema of its own, with Grafana's macros replaced as Grafana would.
struct DashboardDatabase {
    let schema = "deploy_" + UUID().uuidString.prefix(8).lowercased()
    let environment: [String: String]

    /// The time range every query gets: one hour.
    static let from = 1_795_300_000
    static let to = from + 3_600
    static let press = "acme/dresden/body-shop/line-1/press-1"

    /// From POSTGRES_HOST / POSTGRES_PORT / POSTGRES_USER / POSTGRES_DB (scripts/test-deps.sh sets them).
    init() throws {
        let variables = ProcessInfo.processInfo.environment
        var environment: [String: String] = [:]
        for (ours, libpq) in [("POSTGRES_HOST", "PGHOST"), ("POSTGRES_PORT", "PGPORT"), ("POSTGRES_USER", "PGUSER"),
                              ("POSTGRES_DB", "PGDATABASE")] {
            guard let value = variables[ours], !value.isEmpty else {
                throw DeployTestFailure("environment variable \(ours) is not set; this test needs a real PostgreSQL "
                    + "(scripts/test-deps.sh start DIR && source DIR/env)")
            }
            environment[libpq] = value
        }
        if let password = variables["POSTGRES_PASSWORD"] { environment["PGPASSWORD"] = password }
        self.environment = environment
    }

    /// Runs `sql` with psql (unaligned, no headers, `|` between columns) in this test's schema.
    func run(_ sql: String) async throws -> (status: Int32, output: String, error: String) {
        var environment = self.environment
        environment["PGOPTIONS"] = "-c search_path=\(schema)"
        return try await ChildProcess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "|", "-c", sql],
                                          environment: environment)
    }

    /// Grafana's macros and this test's template variables, substituted.
    static func expand(_ sql: String) -> String {
        sql.replacingOccurrences(of: "$__unixEpochFrom()", with: "\(from)")
            .replacingOccurrences(of: "$__unixEpochTo()", with: "\(to)")
            .replacingOccurrences(of: "($asset)", with: "('\(press)')")
            .replacingOccurrences(of: "$asset", with: press)
            .replacingOccurrences(of: "$metric", with: "temperature")
    }

    /// stream's tables (docs/stream.md; rollups as migration 3 creates them) and one press's hour: running
    /// 3000 of 3600 s, 90 good and 10 scrap parts at an ideal 30 s cycle, one alarm, one down period.
    func create() async throws {
        let t = Self.from * 1000
        let series = [(1, "state", "UInt16"), (2, "runningSeconds", "UInt32"), (3, "goodCount", "UInt32"),
                      (4, "scrapCount", "UInt32"), (5, "cycleTimeSetpoint", "Float"), (6, "alarmCode", "UInt16"),
                      (7, "temperature", "Float"), (8, "power", "Float"), (9, "alarmActive", "Boolean"),
                      (10, "vibration", "Float")]
        let samples: [(Int, Int, Double)] = [
            (1, 0, 1), (1, 1_000, 5), (1, 1_200, 1), (2, 0, 1_000), (2, 3_500, 4_000), (3, 0, 0), (3, 3_500, 90),
            (4, 0, 0), (4, 3_500, 10), (5, 0, 30), (5, 3_000, 30), (6, 0, 0), (6, 1_000, 120), (6, 1_200, 0),
            (7, 10, 29.5), (7, 20, 30.1), (8, 10, 4.2), (9, 1_000, 1), (9, 1_200, 0), (10, 10, 1.1),
        ]
        var sql = """
            CREATE SCHEMA \(schema);
            CREATE TABLE \(schema).series (id bigserial PRIMARY KEY, group_id text NOT NULL, edge_node text NOT NULL,
                device text NOT NULL, metric text NOT NULL, datatype text, unit text, asset_path text, stale_since bigint);
            CREATE TABLE \(schema).samples (series_id bigint NOT NULL, ts bigint NOT NULL, kind bigint NOT NULL,
                value_num double precision, value_text text, quality bigint NOT NULL, PRIMARY KEY (series_id, ts));
            CREATE TABLE \(schema).samples_1m (series_id bigint NOT NULL, bucket bigint NOT NULL,
                min double precision NOT NULL, max double precision NOT NULL, avg double precision NOT NULL,
                count bigint NOT NULL, sum double precision NOT NULL, PRIMARY KEY (series_id, bucket));
            CREATE TABLE \(schema).samples_1h (LIKE \(schema).samples_1m INCLUDING ALL);

            """
        for (id, metric, type) in series {
            sql += "INSERT INTO \(schema).series VALUES (\(id), 'acme-dresden', 'gateway-1', 'press-1', '\(metric)', "
                + "'\(type)', NULL, '\(Self.press)', NULL);\n"
        }
        for (id, offset, value) in samples {
            sql += "INSERT INTO \(schema).samples VALUES (\(id), \(t + offset * 1000), 1, \(value), NULL, 192);\n"
        }
        sql += """
            INSERT INTO \(schema).samples_1m SELECT series_id, ts - ts % 60000, min(value_num), max(value_num),
                avg(value_num), count(*), sum(value_num) FROM \(schema).samples GROUP BY 1, 2;
            INSERT INTO \(schema).samples_1h SELECT series_id, bucket - bucket % 3600000, min(min), max(max),
                sum(sum) / sum(count), sum(count), sum(sum) FROM \(schema).samples_1m GROUP BY 1, 2;
            """
        let result = try await run(sql)
        guard result.status == 0 else { throw DeployTestFailure("creating the test tables failed: \(result.error)") }
    }

    func drop() async {
        _ = try? await run("DROP SCHEMA \(schema) CASCADE")
    }

    /// Every rawSql and template-variable query of every dashboard, with where it comes from.
    static func queries() throws -> [(where: String, sql: String)] {
        let folder = URL(fileURLWithPath: Repository.path("deploy/grafana/dashboards"))
        var queries: [(String, String)] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".json") {
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            guard let dashboard = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            for panel in dashboard["panels"] as? [[String: Any]] ?? [] {
                for target in panel["targets"] as? [[String: Any]] ?? [] {
                    queries.append(("\(file): \(panel["title"] ?? "?")", target["rawSql"] as? String ?? ""))
                }
            }
            let templating = dashboard["templating"] as? [String: Any]
            for variable in templating?["list"] as? [[String: Any]] ?? [] {
                queries.append(("\(file): variable \(variable["name"] ?? "?")", variable["query"] as? String ?? ""))
            }
        }
        return queries
    }
}

@Suite("Grafana dashboards against PostgreSQL with stream's tables")
struct DashboardSQLTests {
    @Test("every dashboard query runs on stream's schema")
    func everyQueryRuns() async throws {
        let database = try DashboardDatabase()
        try await database.create()
        let queries = try DashboardDatabase.queries()
        #expect(queries.count >= 15)
        for query in queries {
            let result = try await database.run(DashboardDatabase.expand(query.sql))
            #expect(result.status == 0, "\(query.where): \(result.error)")
        }
        await database.drop()
    }

    @Test("OEE of a known hour: availability 5/6, performance 1, quality 0.9, OEE 0.75")
    func oeeNumbers() async throws {
        let database = try DashboardDatabase()
        try await database.create()
        let oee = try #require(try DashboardDatabase.queries().first { $0.where.hasPrefix("oee.json: OEE per machine") })
        let result = try await database.run(DashboardDatabase.expand(oee.sql))
        await database.drop()
        #expect(result.status == 0, "\(result.error)")
        let columns = result.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map(String.init)
        #expect(columns.count == 7, "\(result.output)")
        guard columns.count == 7 else { return }
        #expect(columns[0] == DashboardDatabase.press)
        let numbers = columns[1...4].map { Double($0) ?? -1 }
        #expect(abs(numbers[0] - 3_000.0 / 3_600.0) < 1e-9, "availability \(columns[1])")
        #expect(abs(numbers[1] - 1) < 1e-9, "performance \(columns[2])")
        #expect(abs(numbers[2] - 0.9) < 1e-9, "quality \(columns[3])")
        #expect(abs(numbers[3] - 0.75) < 1e-9, "OEE \(columns[4])")
        #expect(columns[5] == "90" && columns[6] == "10")
    }
}
