import Foundation
import Postgres
import Testing

/// The real PostgreSQL the integration tests talk to, from POSTGRES_HOST / POSTGRES_PORT / POSTGRES_USER /
/// POSTGRES_DB (and optional POSTGRES_PASSWORD). Missing variables fail the test with a message saying which.
enum PostgresTestEnvironment {
    struct Missing: Error, CustomStringConvertible {
        let names: [String]
        var description: String {
            "integration tests need a PostgreSQL server; set \(names.joined(separator: ", ")) (e.g. POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_USER=postgres POSTGRES_DB=postgres)"
        }
    }

    static func configuration() throws -> PostgresConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let required = ["POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_DB"]
        let missing = required.filter { (environment[$0] ?? "").isEmpty }
        guard missing.isEmpty, let host = environment["POSTGRES_HOST"], let portText = environment["POSTGRES_PORT"],
              let port = Int(portText), let user = environment["POSTGRES_USER"], let database = environment["POSTGRES_DB"]
        else { throw Missing(names: missing.isEmpty ? ["POSTGRES_PORT (a number)"] : missing) }
        return PostgresConfiguration(host: host, port: port, user: user, password: environment["POSTGRES_PASSWORD"],
                                     database: database, sslMode: .disable, applicationName: "shopfloor-tests")
    }
}

/// Connects, creates a schema named after a fresh UUID, points `search_path` at it, runs `body`, and drops
/// the schema again whether `body` succeeded or not, so parallel tests never see each other's tables.
func withTestSchema<T>(_ body: (PostgresConnection, String) async throws -> T) async throws -> T {
    let connection = try await PostgresConnection.connect(PostgresTestEnvironment.configuration())
    let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await connection.execute("CREATE SCHEMA \(schema); SET search_path TO \(schema)")
    do {
        let result = try await body(connection, schema)
        try await connection.execute("DROP SCHEMA \(schema) CASCADE")
        await connection.close()
        return result
    } catch {
        _ = try? await connection.execute("ROLLBACK; DROP SCHEMA \(schema) CASCADE")
        await connection.close()
        throw error
    }
}
