/// A configuration file the gateway cannot run with: every problem found, each with its location, so the
/// operator fixes the file in one pass instead of one error per start.
struct GatewayConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One problem: where (`devices[2].tags[5].address`, with the YAML line when known) and what.
    struct Issue: Sendable, Equatable, CustomStringConvertible {
        var path: String
        var line: Int?
        var message: String

        var description: String {
            let location = line.map { "\(path) (line \($0))" } ?? path
            return "\(location): \(message)"
        }
    }

    var file: String
    var issues: [Issue]

    var description: String {
        let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
        return "configuration \(file) has \(count):\n" + issues.map { "  \($0)" }.joined(separator: "\n")
    }
}
