import Foundation

/// Runs a checker script from Scripts/ with python3 (pymodbus installed by scripts/setup.sh) and collects
/// its JSON-lines results.
enum PythonScript {
    struct Result: Decodable, Sendable {
        var name: String
        var ok: Bool
        var detail: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ script: String, arguments: [String]) async throws -> [Result] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Scripts").appendingPathComponent(script).path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ProcessInfo.processInfo.environment["PYTHON"] ?? "python3", path] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read before waiting so a full pipe cannot block the script.
        let data = try await Task.detached { try output.fileHandleForReading.readToEnd() ?? Data() }.value
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if errorText.contains("No module named 'pymodbus'") {
            throw Failure(description: "pymodbus is not installed: run `pip install --user pymodbus==3.8.6`")
        }
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(script) exited with \(process.terminationStatus): \(errorText)")
        }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Result.self, from: Data($0.utf8))
        }
    }
}
