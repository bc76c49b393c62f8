import Foundation
import Testing

/// deploy/Dockerfile against the executables built on this machine (no Docker engine here): the slim runtime
/// stage must install a package for every shared library they link, and the build stage the -dev package of
/// every pkg-config module Package.swift names. The packages are found with `dpkg -S`, as Debian ships them.
@Suite("deploy/Dockerfile: the packages each stage installs")
struct DockerfileTests {
    /// The packages of the `apt-get install` in the stage starting at `marker` (up to `&& rm`).
    static func packages(afterStage marker: String) throws -> Set<String> {
        let text = try String(contentsOfFile: Repository.path("deploy/Dockerfile"), encoding: .utf8)
        guard let stage = text.range(of: marker),
              let install = text.range(of: "--no-install-recommends", range: stage.upperBound..<text.endIndex),
              let end = text.range(of: "&& rm", range: install.upperBound..<text.endIndex) else {
            throw DeployTestFailure("deploy/Dockerfile: no apt-get install in the stage \(marker)")
        }
        let words = text[install.upperBound..<end.lowerBound].split(whereSeparator: { " \n\\".contains($0) })
        return Set(words.map(String.init).filter { $0.first?.isLetter == true })
    }

    /// `packages` and what each depends on directly (a listed meta package such as libopenblas0 brings the
    /// library package that holds the file).
    static func withDirectDependencies(_ packages: Set<String>) async throws -> Set<String> {
        let result = try await ChildProcess.run(["apt-cache", "depends", "--no-recommends", "--no-suggests",
                                                 "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"]
                                                + packages.sorted(), inherit: false)
        guard result.status == 0 else { throw DeployTestFailure("apt-cache depends: \(result.error)") }
        var all = packages
        for line in result.output.split(separator: "\n") where line.contains("Depends:") {
            if let name = line.split(separator: " ").last {
                all.insert(String(name.split(separator: ":").first ?? name).trimmingCharacters(in: CharacterSet(charactersIn: "<>")))
            }
        }
        return all
    }

    /// The Debian package that installed `path` (usrmerge: tried as given, resolved, and with /usr).
    static func package(owning path: String) async throws -> String? {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var candidates = [path, resolved]
        for candidate in [path, resolved] where candidate.hasPrefix("/lib") { candidates.append("/usr" + candidate) }
        for candidate in [path, resolved] where candidate.hasPrefix("/usr/lib") {
            candidates.append(String(candidate.dropFirst(4)))
        }
        for candidate in candidates {
            let result = try await ChildProcess.run(["dpkg", "-S", candidate], inherit: false)
            if result.status == 0, let line = result.output.split(separator: "\n").first {
                return String(line.split(separator: ":").first ?? "")
            }
        }
        return nil
    }

    /// The system libraries `executable` links directly, with where they resolve here. The Swift runtime is
    /// skipped: the image links it statically (`--static-swift-stdlib`).
    static func linkedLibraries(of executable: String) async throws -> [(name: String, path: String)] {
        let needed = try await ChildProcess.run(["readelf", "-d", executable], inherit: false)
        let names = needed.output.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line in
            line.split(separator: "[").last?.split(separator: "]").first.map(String.init)
        }
        let ldd = try await ChildProcess.run(["ldd", executable], inherit: false)
        var paths: [String: String] = [:]
        for line in ldd.output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count >= 3, parts[1] == "=>" { paths[String(parts[0].trimmingCharacters(in: .whitespaces))] = String(parts[2]) }
        }
        return names.compactMap { name in
            guard let path = paths[name] else { return nil }
            return path.hasPrefix("/lib") || path.hasPrefix("/usr/lib") ? (name, path) : nil
        }
    }

    /// Where `swift build` put the executables: beside this test bundle.
    static var binDirectory: URL {
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("gateway").path), directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    @Test("the runtime stage installs every system library the five executables link")
    func runtimeLibraries() async throws {
        let listed = try Self.packages(afterStage: "AS runtime")
        #expect(listed.contains("libmosquitto1") && listed.contains("libpq5"), "parsed: \(listed.sorted())")
        // debian:bookworm-slim itself has the C and C++ runtimes.
        let available = try await Self.withDirectDependencies(listed).union(["libc6", "libgcc-s1", "libstdc++6"])
        var checked = 0
        for executable in ["gateway", "stream", "api", "simulate", "rag-index"] {
            let path = Self.binDirectory.appendingPathComponent(executable).path
            for library in try await Self.linkedLibraries(of: path) {
                let owner = try await Self.package(owning: library.path)
                #expect(owner != nil, "\(executable): no Debian package owns \(library.path)")
                if let owner {
                    #expect(available.contains(owner),
                            "\(executable) links \(library.name) from \(owner), which the runtime stage does not install")
                    checked += 1
                }
            }
        }
        #expect(checked >= 20, "only \(checked) libraries found: is the build next to the tests?")
    }

    @Test("the build stage installs the -dev package of every pkg-config module in Package.swift")
    func buildPackages() async throws {
        let manifest = try String(contentsOfFile: Repository.path("Package.swift"), encoding: .utf8)
        let modules = manifest.split(separator: "pkgConfig: \"").dropFirst().compactMap { $0.split(separator: "\"").first }
        #expect(modules.count >= 5, "pkg-config modules in Package.swift: \(modules)")
        let available = try await Self.withDirectDependencies(try Self.packages(afterStage: "AS build"))
        for module in modules {
            let directory = try await ChildProcess.run(["pkg-config", "--variable=pcfiledir", String(module)], inherit: false)
            let file = directory.output.trimmingCharacters(in: .whitespacesAndNewlines) + "/\(module).pc"
            let owner = try await Self.package(owning: file)
            #expect(owner.map { available.contains($0) } == true,
                    "pkg-config \(module) comes from \(owner ?? "?"), which the build stage does not install")
        }
    }
}
