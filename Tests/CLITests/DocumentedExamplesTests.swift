import ChatSimulator
import Foundation
import Testing
import TestSupport

/// Every command line the README, the guide in `docs/` and each subcommand's help show
/// runs here, as a reader would type it, against a demo archive at the default
/// path of a home of its own (`sync` against the chat simulator on loopback),
/// and must exit 0 or the code written beside it (`# exit 64`). A line runs
/// when it starts a line of a fenced block with `archive ` or `sqlite3 ` (or
/// `$ ` and either), outside blocks whose info string says `not-run`; a line
/// ending in `\` continues on the next. A renamed flag fails here, not a reader.
@Suite struct DocumentedExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Example {
        let place: String      // file:line, or `archive NAME --help`
        let line: String
        var expected: Int32 {
            guard let range = line.range(of: #"#\s*exit (\d+)"#, options: .regularExpression),
                  let code = Int32(line[range].split(separator: " ").last ?? "") else { return 0 }
            return code
        }
    }

    @Test func everyExampleOfTheREADMEAndTheGuideRuns() async throws {
        var files = ["README.md"]
        if let walker = FileManager.default.enumerator(atPath: Self.root.appendingPathComponent("docs").path) {
            // The generated command reference repeats the help's examples, which the other test runs.
            files += walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".md") && !$0.hasPrefix("reference/") }
                .sorted().map { "docs/" + $0 }
        }
        var failures: [String] = []
        var ran = 0
        for file in files {
            let text = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
            let examples = Self.examples(inMarkdown: text, file: file)
            ran += examples.count
            failures += try await Self.run(examples)
        }
        #expect(ran >= 20, "only \(ran) examples found in \(files)")
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.split(separator: "\n", omittingEmptySubsequences: false).count <= 250, "the README is the front door: 250 lines at most")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func everyExampleOfEverySubcommandsHelpRuns() async throws {
        let dump = try await ArchiveProcess.run(["--experimental-dump-help"])
        let tool = try #require(JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let commands = try #require((tool["command"] as? [String: Any])?["subcommands"] as? [[String: Any]])
        var examples: [Example] = []
        for command in commands {
            guard let name = command["commandName"] as? String, name != "help" else { continue }
            let discussion = command["discussion"] as? String ?? ""
            let shown = ("\n" + discussion).components(separatedBy: "\nExamples:\n").dropFirst().first ?? ""
            let lines = shown.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("archive ") }
            #expect(!lines.isEmpty, "archive \(name) --help ends without an example")
            examples += lines.map { Example(place: "archive \(name) --help", line: $0) }
        }
        let failures = try await Self.run(examples)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    static func examples(inMarkdown text: String, file: String) -> [Example] {
        var examples: [Example] = []
        var fence: String?
        var skipping = false
        var pending: (number: Int, text: String)?
        for (index, raw) in text.components(separatedBy: "\n").enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let open = fence {
                if line.hasPrefix(open) && line.trimmingCharacters(in: CharacterSet(charactersIn: "`~")).isEmpty {
                    fence = nil
                    continue
                }
                if skipping { continue }
                if var continued = pending {
                    continued.text += " " + raw.trimmingCharacters(in: .whitespaces)
                    pending = continued
                } else {
                    let command = raw.hasPrefix("$ ") ? String(raw.dropFirst(2)) : raw
                    guard command.hasPrefix("archive ") || command.hasPrefix("sqlite3 ") || command == "archive" else { continue }
                    pending = (index + 1, command)
                }
                if let complete = pending, complete.text.hasSuffix("\\") {
                    pending = (complete.number, String(complete.text.dropLast()).trimmingCharacters(in: .whitespaces))
                } else if let complete = pending {
                    examples.append(Example(place: "\(file):\(complete.number)", line: complete.text))
                    pending = nil
                }
            } else if line.hasPrefix("```") || line.hasPrefix("~~~") {
                fence = String(line.prefix(3))
                skipping = line.contains("not-run")
            }
        }
        return examples
    }

    /// Runs the examples in order in one fresh home; returns what failed.
    static func run(_ examples: [Example]) async throws -> [String] {
        guard !examples.isEmpty else { return [] }
        let home = try TemporaryDirectory()
        let key = "sk-examples-\(UUID().uuidString)"
        let service = SimulatedChatService(apiKey: key, seed: 5)
        service.populate(project: nil, count: 8)
        let server = try ChatSimulatorServer.start(service: service)
        defer { server.stop() }
        let binaries = ArchiveProcess.locateBinary().deletingLastPathComponent().path
        let data = home.path(".local/share/llamacloud-archive")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home.path(".config/llamacloud-archive"), withIntermediateDirectories: true)
        // A config file with prices, a budget well above the demo's spend and a redaction rule.
        try Data("""
            [[rates]]
            input = 3.0
            output = 15.0

            [[budgets]]
            name = "team"
            period = "month"
            limit = 1000000

            [[redact]]
            name = "account"
            pattern = 'ACME-[0-9]+'
            """.utf8).write(to: URL(fileURLWithPath: home.path(".config/llamacloud-archive/config.toml")))
        let keyFile = home.path(".config/llamacloud-archive/key")
        try Data(key.utf8).write(to: URL(fileURLWithPath: keyFile))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        let environment = ArchiveProcess.environment([
            "HOME": home.url.path, "PATH": "\(binaries):/usr/local/bin:/usr/bin:/bin",
            "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString, "LLAMA_CLOUD_API_KEY": key, "XDG_CONFIG_HOME": home.path(".config"),
            "TMPDIR": home.url.path,
        ])
        // What the examples read besides the archive: a JSONL export of it, another archive to merge, a folder for backups.
        let setup = "archive demo --db \(data)/archive.db >/dev/null && archive demo --sessions 5 --db other.db >/dev/null"
            + " && archive export --out sessions.jsonl && mkdir backups"
        var failures: [String] = []
        if let problem = try await shell(setup, environment: environment, directory: home.url, expected: 0) {
            return ["setting up: \(problem)"]
        }
        let haveSQLite = FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")
        for example in examples {
            if example.line.hasPrefix("sqlite3 ") && !haveSQLite { continue }  // .ci/run installs it
            if let problem = try await shell(example.line, environment: environment, directory: home.url, expected: example.expected) {
                failures.append("\(example.place): `\(example.line)` \(problem)")
            }
        }
        return failures
    }

    /// Runs one line with /bin/sh; nil when it exited as expected, else what happened.
    static func shell(_ line: String, environment: [String: String], directory: URL, expected: Int32) async throws -> String? {
        let output = directory.appendingPathComponent(".example-output")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", line]
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(TestTime.seconds(120))
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                return "did not end within two minutes"
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        guard process.terminationStatus != expected else { return nil }
        let errors = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let first = errors.split(separator: "\n").first.map(String.init) ?? ""
        return "exited \(process.terminationStatus), expected \(expected): \(first)"
    }
}
