import TestSupport
import ArchiveCore
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// The query commands through the real binary: formats, exit codes, one-line errors.
@Suite struct QueryCommandTests {
    let folder: TemporaryDirectory
    var db: String { folder.path("q.db") }
    let corpus: [String]

    init() throws {
        folder = try TemporaryDirectory()
        func session(_ id: String, _ updated: String, _ project: String, _ title: String, _ input: Int, _ output: Int) -> String {
            #"{"session_id":"\#(id)","last_updated_at":"\#(updated)","generated_title":"\#(title)","index_ids":["idx-1"],"shared_access":"query","job_metadata":null,"events":[{"type":"user_input","content":"What about the Q3 renewal clause for \#(id)?"},{"type":"tool_call","call_id":"c","name":"search","arguments":{"q":"renewal"}},{"type":"tool_result","call_id":"c","name":"search","result":{"error":"timeout"}},{"type":"text","content":"It renews, \"quoted\", with commas."},{"type":"stop","error":null,"is_error":false,"usage":{"duration_ms":1500,"total_input_tokens":\#(input),"total_output_tokens":\#(output),"turns":1}}]}"#
        }
        corpus = [
            session("s-1", "2026-03-01T09:00:00Z", "p1", "First, with a comma", 1000, 100),
            session("s-2", "2026-03-02T09:00:00Z", "p1", #"Second \"quoted\""#, 2000, 200),
            session("s-3", "2026-03-02T23:30:00Z", "p2", "Third", 4000, 400),
        ]
    }

    func importCorpus() async throws {
        try corpus.joined(separator: "\n").write(toFile: folder.path("corpus.jsonl"), atomically: true, encoding: .utf8)
        let result = try await ArchiveProcess.run(["import", "--db", db, folder.path("corpus.jsonl")])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func importFromStdinReportsBadLinesAndExitsTwo() async throws {
        let input = folder.path("stdin.jsonl")
        try (corpus[0] + "\n{\"session_id\": 3}\n" + corpus[1] + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = ArchiveProcess.locateBinary()
        process.arguments = ["import", "--db", db, "-"]
        process.environment = ArchiveProcess.environment()
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
        let err = Pipe(), out = Pipe()
        process.standardError = err
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(stderr == "<stdin>:2: missing session_id\n")
        #expect(stdout.hasPrefix("imported: 2 new, 0 updated, 0 unchanged, 1 failed from 3 records in 1 file"))
        let missing = try await ArchiveProcess.run(["import", "--db", db, folder.path("nope.jsonl")])
        #expect(missing.status == 1 && missing.stderr == "archive: \(folder.path("nope.jsonl")): no such file or folder\n")
    }

    @Test func exportAfterImportReproducesTheInput() async throws {
        try await importCorpus()
        let exported = try await ArchiveProcess.run(["export", "--db", db])
        #expect(exported.status == 0)
        let lines = exported.stdout.split(separator: "\n").map(String.init)
        #expect(try lines.map { try JSONParser.parse($0) } == corpus.map { try JSONParser.parse($0) })
        let toFile = try await ArchiveProcess.run(["export", "--db", db, "--project", "p2", "--out", folder.path("p2.jsonl")])
        #expect(toFile.status == 0 && toFile.stdout.isEmpty)
        // Imported sessions have no project: the filter finds none.
        #expect(try String(contentsOfFile: folder.path("p2.jsonl"), encoding: .utf8).isEmpty)
        let one = try await ArchiveProcess.run(["export", "--db", db, "--session", "s-2"])
        #expect(try JSONParser.parse(one.stdout.trimmingCharacters(in: .newlines)) == JSONParser.parse(corpus[1]))
        let unknown = try await ArchiveProcess.run(["export", "--db", db, "--session", "zzz"])
        #expect(unknown.status == 1 && unknown.stderr == "archive: no session zzz in the archive\n")
    }

    @Test func tokensInEveryFormat() async throws {
        try await importCorpus()
        let json = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "day", "--tz", "UTC", "--format", "json",
                                                 "--price-input", "3", "--price-output", "15"])
        #expect(json.status == 0)
        let value = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))
        #expect(value["rows"]?.arrayValue?.map { $0["day"] } == ["2026-03-01", "2026-03-02"])
        #expect(value["totals"]?["input_tokens"] == 7000 && value["totals"]?["output_tokens"] == 700)
        #expect(value["totals"]?["total_tokens"] == 7700 && value["totals"]?["runs"] == 3 && value["totals"]?["sessions"] == 3)
        #expect(value["totals"]?["cost_usd"]?.doubleValue.map { abs($0 - 0.0315) < 1e-9 } == true)
        let tokyo = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "day", "--tz", "Asia/Tokyo", "--format", "csv"])
        #expect(tokyo.stdout.hasPrefix("day,sessions,runs,error_runs,input_tokens,output_tokens,total_tokens,cost_usd\r\n"))
        #expect(tokyo.stdout.contains("\r\n2026-03-03,1,1,0,4000,400,4400,\r\n"))
        let table = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "month"])
        #expect(table.stdout.contains("2026-03") && table.stdout.contains("7,000") && table.stdout.contains("total"))
        #expect(!table.stdout.contains("\u{1B}["))  // no colour when not on a terminal
        let bad = try await ArchiveProcess.run(["tokens", "--db", db, "--since", "last tuesday"])
        #expect(bad.status == 64)
        #expect(bad.stderr == "archive: --since \"last tuesday\" is not a date (YYYY-MM-DD, YYYYMMDD, a month YYYY-MM, an ISO 8601 time, or a span such as 7d, 24h, 2w)\n")
        let zone = try await ArchiveProcess.run(["tokens", "--db", db, "--tz", "Nowhere/City"])
        #expect(zone.status == 64 && zone.stderr.contains("unknown time zone \"Nowhere/City\""))
        let pricing = try await ArchiveProcess.run(["tokens", "--db", db, "--pricing", folder.path("none.toml")])
        #expect(pricing.status == 64 && pricing.stderr == "archive: cannot read the pricing file \(folder.path("none.toml"))\n")
    }

    @Test func sessionsSearchToolsShowAndCSVQuoting() async throws {
        try await importCorpus()
        let csv = try await ArchiveProcess.run(["sessions", "--db", db, "--format", "csv", "--order", "title"])
        let lines = csv.stdout.components(separatedBy: "\r\n")
        #expect(lines[0] == "session,session_id,source,title,project_id,last_updated_at,runs,input_tokens,output_tokens,error_runs,deleted")
        #expect(lines[1] == "s-1,s-1,default,\"First, with a comma\",,2026-03-01T09:00:00.000000Z,1,1000,100,0,false")
        #expect(lines[2] == "s-2,s-2,default,\"Second \"\"quoted\"\"\",,2026-03-02T09:00:00.000000Z,1,2000,200,0,false")
        let search = try await ArchiveProcess.run(["search", "--db", db, "renewal-clause: \"Q3\"", "--format", "json"])
        #expect(search.status == 0)
        let hits = try JSONParser.parse(search.stdout.trimmingCharacters(in: .newlines)).arrayValue ?? []
        #expect(hits.count == 3 && hits.allSatisfy { $0["kind"] == "user_input" })
        let badFTS = try await ArchiveProcess.run(["search", "--db", db, "--fts", "\"unclosed"])
        #expect(badFTS.status == 1 && badFTS.stderr.hasPrefix("archive: invalid search syntax:"))
        let tools = try await ArchiveProcess.run(["tools", "--db", db, "--format", "json"])
        let tool = try JSONParser.parse(tools.stdout.trimmingCharacters(in: .newlines)).arrayValue?.first
        #expect(tool?["name"] == "search" && tool?["calls"] == 3 && tool?["error_results"] == 3 && tool?["share_of_runs"]?.doubleValue == 1)
        let show = try await ArchiveProcess.run(["show", "--db", db, "s-2"])
        #expect(show.stdout.contains("── Run 1") && show.stdout.contains("> What about the Q3 renewal clause for s-2?"))
        #expect(show.stdout.contains("→ search {\"q\":\"renewal\"}") && show.stdout.contains("It renews"))
        let markdown = try await ArchiveProcess.run(["show", "--db", db, "s-2", "--format", "markdown"])
        #expect(markdown.stdout.hasPrefix("# Second \"quoted\"\n") && markdown.stdout.contains("## Run 1"))
        let json = try await ArchiveProcess.run(["show", "--db", db, "s-2", "--format", "json"])
        #expect(try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines)) == JSONParser.parse(corpus[1]))
        let unknown = try await ArchiveProcess.run(["show", "--db", db, "nope"])
        #expect(unknown.status == 1 && unknown.stderr == "archive: no session nope in the archive\n")
    }

    @Test func sqlIsReadOnlyAndOneStatement() async throws {
        try await importCorpus()
        let ok = try await ArchiveProcess.run(["sql", "--db", db, "SELECT session_id, input_tokens FROM sessions WHERE input_tokens > ? ORDER BY 1", "--param", "1500", "--format", "csv"])
        #expect(ok.stdout == "session_id,input_tokens\r\ns-2,2000\r\ns-3,4000\r\n")
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for sql in ["DELETE FROM sessions", "SELECT 1; SELECT 2", "ATTACH 'x.db' AS x", "PRAGMA user_version=3"] {
            let refused = try await ArchiveProcess.run(["sql", "--db", db, sql])
            #expect(refused.status == 1, "\(sql)")
            #expect(refused.stderr.hasPrefix("archive: ") && refused.stderr.split(separator: "\n").count == 1)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        let syntax = try await ArchiveProcess.run(["sql", "--db", db, "SELEKT 1"])
        #expect(syntax.status == 1 && syntax.stderr == "archive: near \"SELEKT\": syntax error\n")
    }

    @Test func emptyAndMissingArchivesAreOneLineErrors() async throws {
        let missing = try await ArchiveProcess.run(["sessions", "--db", db])
        #expect(missing.status == 1 && missing.stderr == "archive: no archive at \(db): run `archive sync` or `archive import` first\n")
        #expect(!FileManager.default.fileExists(atPath: db))
        let nothing = folder.path("nothing.jsonl")
        _ = FileManager.default.createFile(atPath: nothing, contents: Data())
        _ = try await ArchiveProcess.run(["import", "--db", db, nothing])
        let empty = try await ArchiveProcess.run(["tokens", "--db", db])
        #expect(empty.status == 1)
        #expect(empty.stderr == "archive: the archive \(db) holds no sessions yet: run `archive sync` or `archive import` first\n")
    }
}

@Suite struct TerminalRenderingTests {
    /// Runs `archive ARGS` on a pseudo-terminal (util-linux `script`) and returns what it drew.
    func onTerminal(_ arguments: [String], environment: [String: String]) async throws -> String {
        let folder = try TemporaryDirectory()
        let transcript = folder.path("tty.out")
        let command = ([ArchiveProcess.locateBinary().path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qfec", "stty cols 64 2>/dev/null; " + command, transcript]
        process.environment = ArchiveProcess.environment(environment).filter { $0.key != "NO_COLOR" || environment["NO_COLOR"] != nil }
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        let text = try String(contentsOfFile: transcript, encoding: .utf8)
        // The transcript opens and closes with a line of its own.
        return text.split(whereSeparator: \.isNewline).dropFirst().dropLast().joined(separator: "\n")
    }

    @Test func tablesFitTheTerminalWithColourUnlessNoColor() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("t.db")
        let long = String(repeating: "A very long title that goes on ", count: 4)
        let session = #"{"session_id":"ses-long-title","last_updated_at":"2026-03-01T09:00:00Z","generated_title":"\#(long)","events":[{"type":"user_input","content":"x"},{"type":"stop","error":null,"is_error":false,"usage":{"total_input_tokens":1234567,"total_output_tokens":1,"turns":1}}]}"#
        try session.write(toFile: folder.path("s.json"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", db, folder.path("s.json")])
        var environment = ["TERM": "xterm", "TZ": "UTC"]
        let coloured = try await onTerminal(["sessions", "--db", db], environment: environment)
        #expect(coloured.contains("\u{1B}[1m"))
        environment["NO_COLOR"] = "1"
        let plain = try await onTerminal(["sessions", "--db", db], environment: environment)
        #expect(!plain.contains("\u{1B}["))
        let lines = plain.split(whereSeparator: \.isNewline).map(String.init)
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.allSatisfy { $0.count <= 64 }, "\(lines)")
        #expect(lines[1].contains("…") && lines[1].contains("1,234,567"))
        #expect(!lines[0].contains("deleted"))  // optional columns give way on a narrow terminal
    }

    @Test func chartBarsAreColouredOnATerminalAndPlainUnderNoColor() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("t.db")
        let sessions = (1...3).map { day in
            #"{"session_id":"s\#(day)","last_updated_at":"2026-03-0\#(day)T09:00:00Z","events":[{"type":"user_input","content":"x"},{"type":"stop","usage":{"total_input_tokens":\#(day * 1000),"total_output_tokens":0}}]}"#
        }
        try sessions.joined(separator: "\n").write(toFile: folder.path("s.jsonl"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", db, folder.path("s.jsonl")])
        var environment = ["TERM": "xterm", "TZ": "UTC"]
        let arguments = ["tokens", "--db", db, "--by", "day", "--chart"]
        let coloured = try await onTerminal(arguments, environment: environment)
        // 64 columns: bars of 12 cells, the largest whole; 1,000 of 3,000 tokens is 4 of them.
        #expect(coloured.contains("\u{1B}[1;33m████\u{1B}[0m"), "\(coloured)")
        environment["NO_COLOR"] = "1"
        let plain = try await onTerminal(arguments, environment: environment)
        #expect(!plain.contains("\u{1B}[") && plain.contains(" " + String(repeating: "█", count: 12) + "\n"), "\(plain)")
        #expect(!plain.contains("…"))
    }
}

/// Issue 12's breakdowns, charts and config file, through the real binary.
extension QueryCommandTests {
    @Test func tokensByPairsOfKeysNameTheirColumns() async throws {
        try await importCorpus()
        let pair = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "index,day", "--tz", "UTC", "--format", "csv"])
        #expect(pair.status == 0, "\(pair.stderr)")
        #expect(pair.stdout == "index_id,day,sessions,runs,error_runs,input_tokens,output_tokens,total_tokens,cost_usd\r\n"
                + "idx-1,2026-03-01,1,1,0,1000,100,1100,\r\nidx-1,2026-03-02,2,2,0,6000,600,6600,\r\n")
        let sessions = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "session", "--format", "json"])
        let rows = try JSONParser.parse(sessions.stdout)["rows"]?.arrayValue ?? []
        #expect(rows.map { $0["session_id"] } == ["s-3", "s-2", "s-1"] && rows.first?["title"] == "Third")
        #expect(rows.first?.objectValue?.members.map(\.key).prefix(5) == ["session", "session_id", "source", "title", "project_id"])
        let month = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "month", "--since", "2026-03", "--until", "2026-03",
                                                  "--tz", "Asia/Tokyo", "--format", "csv"])
        #expect(month.stdout.hasSuffix("\r\n2026-03,3,3,0,7000,700,7700,\r\n"))
        let priced = try await ArchiveProcess.run(["sessions", "--db", db, "--format", "json", "--price-input", "3", "--price-output", "15"])
        let costs = try JSONParser.parse(priced.stdout).arrayValue?.map { ($0["session_id"]?.stringValue ?? "", $0["cost_usd"]?.doubleValue ?? -1) } ?? []
        #expect(costs.count == 3 && costs.allSatisfy { id, cost in
            abs(cost - ["s-1": 0.0045, "s-2": 0.009, "s-3": 0.018][id, default: -9]) < 1e-12
        }, "\(costs)")
        let unpriced = try await ArchiveProcess.run(["sessions", "--db", db, "--format", "csv"])
        #expect(!unpriced.stdout.contains("cost_usd"))
        for bad in ["day,day", "day,week", "project,day,index", "hour", ""] {
            let refused = try await ArchiveProcess.run(["tokens", "--db", db, "--by", bad])
            #expect(refused.status == 64 && refused.stderr.contains("--by \"\(bad)\""), "\(bad): \(refused.stderr)")
        }
        let chart = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "day", "--tz", "UTC", "--chart", "--price-input", "1", "--price-output", "1"])
        let lines = chart.stdout.split(separator: "\n")
        #expect(lines.first?.hasSuffix("cost") == true)
        #expect(lines.contains { $0.hasPrefix("2026-03-01") && $0.hasSuffix(" ████") })  // a sixth of the largest cost: 4 cells of 24
        #expect(lines.contains { $0.hasPrefix("2026-03-02") && $0.hasSuffix(" " + String(repeating: "█", count: 24)) })
        #expect(!chart.stdout.contains("\u{1B}["))
    }

    @Test func theConfigFileGivesDefaultsThatEnvironmentAndFlagsOverride() async throws {
        try await importCorpus()
        let configHome = folder.path("config")
        try FileManager.default.createDirectory(atPath: configHome + "/llamacloud-archive", withIntermediateDirectories: true)
        let config = configHome + "/llamacloud-archive/config.toml"
        try """
            # saved once
            db = "\(db)"
            tz = "Asia/Tokyo"

            [sync]
            base_url = "http://127.0.0.1:9"
            projects = ["p1", "p2"]

            [[rates]]
            from = 2026-03-02
            input = 1_000_000
            output = 0
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let environment = ["XDG_CONFIG_HOME": configHome, "TZ": ""]
        let tokens = try await ArchiveProcess.run(["tokens", "--by", "day", "--format", "csv"], environment: environment)
        #expect(tokens.status == 0, "\(tokens.stderr)")
        // Tokyo days (from the file); the first day has no rate yet (it starts on 2026-03-02).
        #expect(tokens.stdout.contains("\r\n2026-03-01,1,1,0,1000,100,1100,\r\n"))
        #expect(tokens.stdout.contains("\r\n2026-03-02,1,1,0,2000,200,2200,2000\r\n"))
        #expect(tokens.stdout.contains("\r\n2026-03-03,1,1,0,4000,400,4400,4000\r\n"))
        #expect(tokens.stderr == "archive: no price for project (default) on 2026-03-01 (UTC): the cost of its runs there is unknown\n")
        // A flag wins over the file; so does the environment.
        let utc = try await ArchiveProcess.run(["tokens", "--by", "day", "--tz", "UTC", "--format", "csv"], environment: environment)
        #expect(!utc.stdout.contains("2026-03-03"))
        let fromTZ = try await ArchiveProcess.run(["tokens", "--by", "day", "--format", "csv"], environment: environment.merging(["TZ": "UTC"]) { $1 })
        #expect(!fromTZ.stdout.contains("2026-03-03"))
        let elsewhere = try await ArchiveProcess.run(["status"], environment: environment.merging(["ARCHIVE_DB": folder.path("none.db")]) { $1 })
        #expect(elsewhere.status == 1 && elsewhere.stderr.contains("no archive at \(folder.path("none.db"))"))
        // The [sync] defaults reach sync: its projects are listed at the file's base URL (nothing listens there).
        let sync = try await ArchiveProcess.run(["sync", "--json", "--max-retries", "0"], environment: environment.merging(["LLAMA_CLOUD_API_KEY": "k"]) { $1 })
        #expect(sync.status == 1 && sync.stdout.contains("127.0.0.1:9"), "\(sync.stdout) \(sync.stderr)")
        // A file that cannot be read is one line naming it and the line, exit 64, whatever the command.
        try "tz = \"Europe/Berlin\"\n[sync]\nprojects = [\"p1\", 3]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let broken = try await ArchiveProcess.run(["sessions", "--db", db], environment: environment)
        #expect(broken.status == 64 && broken.stderr == "archive: \(config):3: projects must be an array of project ids\n")
        try "db = /no/quotes\n".write(toFile: config, atomically: true, encoding: .utf8)
        let unquoted = try await ArchiveProcess.run(["tokens", "--db", db], environment: environment)
        #expect(unquoted.status == 64 && unquoted.stderr == "archive: \(config):1: cannot read the value of db\n")
    }
}

extension QueryCommandTests {
    /// Issue 26's table: each form a TOML 1.0 user writes, in one file the
    /// binary reads, gives the report the same flags would.
    @Test func theConfigFileIsReadAsTOML() async throws {
        try await importCorpus()
        let configHome = folder.path("toml-config")
        try FileManager.default.createDirectory(atPath: configHome + "/llamacloud-archive", withIntermediateDirectories: true)
        let file = "\u{FEFF}db = '\(db)'  # a literal string after a byte order mark\r\n" + """
            tz = \"""UTC\"""
            sync.base_url = 'http://127.0.0.1:9'
            sync.projects = [
              "p1",
              "p2", # x
            ]
            rates = [ { input = 3.0, output = 15.0 }, { from = 2026-03-02T00:00:00Z, input = 3, output = 15 } ]

            """
        try file.write(toFile: configHome + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        let fromFile = try await ArchiveProcess.run(["tokens", "--by", "project", "--format", "csv"],
                                                    environment: ["XDG_CONFIG_HOME": configHome])
        #expect(fromFile.status == 0 && fromFile.stderr.isEmpty, "\(fromFile.stderr)")
        let fromFlags = try await ArchiveProcess.run(["tokens", "--db", db, "--tz", "UTC", "--by", "project", "--format", "csv",
                                                      "--price-input", "3", "--price-output", "15"],
                                                     environment: ["XDG_CONFIG_HOME": folder.path("none")])
        #expect(fromFlags.status == 0)
        #expect(fromFile.stdout == fromFlags.stdout && fromFile.stdout.contains(",7700,0.0315\r\n"), "\(fromFile.stdout)")
        try "[sync]\nprojects = [\n  \"p1\",\n  3,\n]\n".write(toFile: configHome + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        let broken = try await ArchiveProcess.run(["tokens", "--db", db], environment: ["XDG_CONFIG_HOME": configHome])
        #expect(broken.status == 64 && broken.stderr == "archive: \(configHome)/llamacloud-archive/config.toml:2: projects must be an array of project ids\n")
    }

    @Test func theHTMLReportHoldsOneBarPerBucketWhoseTotalsAreTheTokenReports() async throws {
        try await importCorpus()
        let hostile = #"{"session_id":"s-4","last_updated_at":"2026-03-05T10:00:00Z","generated_title":"<script>alert(1)</script>\u001b]52;c;x\u0007","events":[{"type":"user_input","content":"hi"},{"type":"stop","usage":{"total_input_tokens":10,"total_output_tokens":1}}]}"#
        try hostile.write(toFile: folder.path("hostile.json"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", db, folder.path("hostile.json")])
        let out = folder.path("report.html")
        let result = try await ArchiveProcess.run(["report", "--db", db, "--out", out, "--tz", "UTC", "--price-input", "3", "--price-output", "15"])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        // Self-contained: nothing fetched, nothing run.
        for forbidden in ["<script", "src=", "href=", "@import", "url(", "http://", "https://"] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;\u{FFFD}]52;c;x\u{FFFD}"))
        // The spend chart: one group per day of `archive tokens --by day`, with the same totals.
        let tokens = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "day", "--tz", "UTC", "--format", "json",
                                                   "--price-input", "3", "--price-output", "15"])
        let days = try JSONParser.parse(tokens.stdout)["rows"]?.arrayValue ?? []
        let start = try #require(html.range(of: "<svg class=\"chart\" data-measure=\"cost_usd\""))
        let end = try #require(html.range(of: "</svg>", range: start.upperBound..<html.endIndex))
        let chart = String(html[start.lowerBound..<end.upperBound])
        let groups = chart.components(separatedBy: "<g class=\"bucket\" ").dropFirst()
        #expect(groups.count == days.count && days.count == 3)
        for (group, day) in zip(groups, days) {
            #expect(group.hasPrefix("data-key=\"\(day["day"]?.stringValue ?? "?")\""))
            let total = group.split(separator: "\"")[3]
            #expect(abs((Double(total) ?? -1) - (day["cost_usd"]?.doubleValue ?? -2)) < 1e-9, "\(group.prefix(80))")
            #expect(group.components(separatedBy: "<rect ").count - 1 == 1)  // one project: one bar per bucket
        }
        // The costliest sessions, most first, with their titles escaped.
        let costliest = html.components(separatedBy: "<td><code>").dropFirst().map { $0.prefix(while: { $0 != "<" }) }
        #expect(costliest == ["s-3", "s-2", "s-1", "s-4"])
        #expect(html.contains("<td>Third</td>"))
        // The tools table and the price table are there; a pipe gets the page on standard output.
        #expect(html.contains("<td>search</td>") && html.contains("100.0%"))
        #expect(html.contains("<h2>Prices used</h2>") && html.contains("any other"))
        let piped = try await ArchiveProcess.run(["report", "--db", db, "--out", "-", "--tz", "UTC"])
        #expect(piped.stdout.hasPrefix("<!DOCTYPE html>") && piped.stdout.contains("No prices given"))
        let onArchive = try await ArchiveProcess.run(["report", "--db", db, "--out", db])
        #expect(onArchive.status == 64)
    }
}
