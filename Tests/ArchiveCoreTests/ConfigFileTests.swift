import Foundation
import Testing
@_spi(Testing) @testable import ArchiveCore

/// The config file is TOML 1.0 (the reader's own tests compare it with
/// Python's tomllib); these are the config's own rules on top of it.
@Suite struct ConfigFileTests {
    static func parse(_ text: String) throws(SettingsFileError) -> ArchiveConfig {
        try ArchiveConfig.parse(Array(text.utf8), path: "config.toml")
    }

    static func failure(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    static func seconds(_ iso: String) throws -> Int64 {
        try #require(Timestamp.microseconds(fromISO8601: iso)) / 1_000_000
    }

    @Test func everyFormOfTheIssuesTableIsReadAsTOMLReadsIt() throws {
        let config = try Self.parse("""
            \u{FEFF}db = '/srv/archive/chats.db'   # a literal string, after a byte order mark
            tz = \"""Europe/Berlin\"""
            sync.base_url = 'https://api.cloud.eu.llamaindex.ai'
            sync.projects = [
              "proj-research",
              "proj-legal", # the legal team's
            ]
            rates = [ { input = 3.0, output = 15.0 }, { from = 2026-02-01T00:00:00Z, project = "proj-legal", input = 2, output = 10 } ]
            """)
        #expect(config.db == "/srv/archive/chats.db")
        #expect(config.tz == "Europe/Berlin")
        #expect(config.sync.baseURL == "https://api.cloud.eu.llamaindex.ai")
        #expect(config.sync.projects == ["proj-research", "proj-legal"])
        let rates = try #require(config.pricing?.rates)
        #expect(rates.count == 2 && rates[0].from == nil && rates[0].input == 3 && rates[0].output == 15)
        #expect(rates[1].from == .instant(seconds: try Self.seconds("2026-02-01T00:00:00Z"), offsetMinutes: 0))
        #expect(rates[1].project == "proj-legal" && rates[1].input == 2)
        // The same settings as tables, with CRLF line ends.
        let tables = try Self.parse("db = \"/srv/archive/chats.db\"\r\ntz = \"Europe/Berlin\"\r\n[sync]\r\nbase_url = \"https://api.cloud.eu.llamaindex.ai\"\r\n"
            + "projects = [\"proj-research\", \"proj-legal\"]\r\n[[rates]]\r\ninput = 3\r\noutput = 15\r\n[[rates]]\r\nfrom = 2026-02-01T00:00:00Z\r\n"
            + "project = \"proj-legal\"\r\ninput = 2.0\r\noutput = 10.0\r\n")
        #expect(tables == config)
    }

    @Test func retentionAndRedactionRulesAreReadAndTheirFaultsNamed() throws {
        let config = try Self.parse("""
            [retention]
            content_days = 400

            [[redact]]
            name = "email"
            pattern = '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}'

            [[redact]]
            name = "llx-key"
            pattern = "llx-[A-Za-z0-9]{20,}"
            """)
        #expect(config.contentDays == 400)
        #expect(config.redactions.map(\.name) == ["email", "llx-key"])
        let redacted = config.redactor.redact("write to bob@example.org with llx-abcdefghijklmnopqrstuvwxyz")
        #expect(redacted.text == "write to [redacted:email] with [redacted:llx-key]" && redacted.matches == 2)
        #expect(Self.failure("[retention]\ncontent_days = 0\n") == "config.toml:2: content_days must be a whole number of days, 1 or more")
        #expect(Self.failure("[retention]\ncontent = 3\n") == "config.toml:2: unknown key content in [retention] (expected content_days)")
        #expect(Self.failure("\n[[redact]]\nname = \"x\"\npattern = \"(unclosed\"\n") == "config.toml:4: pattern is not a regular expression that matches some text (an empty match is refused)")
        #expect(Self.failure("[[redact]]\nname = \"x\"\npattern = \"a*\"\n")
            == "config.toml:3: pattern is not a regular expression that matches some text (an empty match is refused)")
        #expect(Self.failure("[[redact]]\npattern = \"a\"\n") == "config.toml:1: [[redact]] needs a name")
        #expect(Self.failure("[[redact]]\nname = \"a b\"\npattern = \"a\"\n")
            == "config.toml:2: name must be letters, digits, _ and - only (it is written into the text as [redacted:NAME])")
        #expect(Self.failure("[[redact]]\nname = \"a\"\npattern = \"a\"\n[[redact]]\nname = \"a\"\npattern = \"b\"\n")
            == "config.toml:5: name \"a\" names two rules")
    }

    @Test func faultsNameTheFileTheLineAndTheKey() {
        #expect(Self.failure("[sync]\nprojects = \"p1\"\n") == "config.toml:2: projects must be an array of project ids")
        #expect(Self.failure("[sync]\nprojects = [\n  \"p1\",\n  3,\n]\n") == "config.toml:2: projects must be an array of project ids")
        #expect(Self.failure("tz = \"UTC\"\n\n[sync]\nbase_url = 3\n") == "config.toml:4: base_url must be a non-empty string")
        #expect(Self.failure("db = \"\"\n") == "config.toml:1: db must be a non-empty string")
        #expect(Self.failure("[synk]\n") == "config.toml:1: unknown key synk (expected db, tz, [sync], [[sources]], [[rates]], [backup], [dataset], [retention], [[redact]], [[budgets]], [mcp], [metrics])")
        #expect(Self.failure("sync.extra.deep = 1\n") == "config.toml:1: unknown key extra in [sync] (expected base_url, projects, organization_id)")
        #expect(Self.failure("sync = 3\n") == "config.toml:1: sync must be a table ([sync]), not an integer")
        #expect(Self.failure("[sync]\n[[rates]]\ninput = 1\noutput = 2\nfrom = \"next week\"\n")
            == "config.toml:5: from \(RateStart.expected)")
        #expect(Self.failure("[[rates]]\ninput = -1\noutput = 1\n") == "config.toml:2: input must be a price in USD per million tokens")
        #expect(Self.failure("[[rates]]\ninput = inf\noutput = 1\n") == "config.toml:2: input must be a price in USD per million tokens")
        #expect(Self.failure("[[rates]]\ninput = \"3\"\noutput = 1\n") == "config.toml:2: input must be a number, not a string")
        #expect(Self.failure("\n[[rates]]\noutput = 1\n") == "config.toml:2: [[rates]] needs input, a price in USD per million tokens")
        #expect(Self.failure("tz = \"Mars/Olympus\"\n") == "config.toml:1: unknown time zone \"Mars/Olympus\" (use an IANA name such as Europe/Berlin)")
        // TOML's own faults keep their line.
        #expect(Self.failure("db = /no/quotes\n") == "config.toml:1: cannot read the value of db")
        #expect(Self.failure("tz = \"UTC\"\n[sync]\nprojects = [\"a\",\n\"b\"\n") == "config.toml:5: expected , or ] in the array projects")
        #expect(Self.failure("tz = \"UTC\"\ntz = \"UTC\"\n") == "config.toml:2: tz is defined twice")
        var invalid = Array("# one\n# two\ndb = \"x\"\n".utf8)
        invalid[invalid.count - 3] = 0xFF
        #expect(throws: SettingsFileError.fault(path: "config.toml", line: 3, place: nil, message: "the text is not UTF-8")) { try ArchiveConfig.parse(invalid, path: "config.toml") }
    }

    @Test func anAPIKeyInTheFileIsRefusedWithoutShowingIt() {
        for text in ["api_key = \"llx-secret-123\"\n", "[sync]\ntoken = \"llx-secret-123\"\n", "LLAMA_CLOUD_API_KEY = \"llx-secret-123\"\n"] {
            let message = Self.failure(text)
            #expect(message?.contains("an API key is not read from the config file") == true, "\(text)")
            #expect(message?.contains("llx-secret-123") == false)
            #expect(message?.hasPrefix("config.toml:\(text.hasPrefix("[") ? 2 : 1): ") == true)
        }
    }

    @Test func sourcesAreReadAndTheirFaultsNamedWithoutAKeyEverInTheFile() throws {
        let config = try Self.parse("""
            [[sources]]
            name = "na"
            api_key_file = "~/na.key"
            projects = ["p1", "p2"]

            [[sources]]
            name = "eu.1"
            base_url = "https://api.cloud.eu.llamaindex.ai"
            api_key_env = "EU_KEY"
            organization_id = "org-eu"
            """)
        #expect(config.sources.map(\.name) == ["na", "eu.1"])
        #expect(config.sources[0].key == .file("~/na.key") && config.sources[0].projects == ["p1", "p2"] && config.sources[0].baseURL == nil)
        #expect(config.sources[1].key == .environment("EU_KEY") && config.sources[1].organizationID == "org-eu")
        let faults: [(String, String)] = [
            ("[[sources]]\nname = \"na\"\n", "config.toml:1: [[sources]] na needs api_key_file (a file of mode 0600) or api_key_env (a variable's name)"),
            ("[[sources]]\nname = \"na\"\napi_key_file = \"k\"\napi_key_env = \"K\"\n", "config.toml:4: api_key_env and api_key_file exclude each other"),
            ("[[sources]]\nname = \"n a\"\napi_key_env = \"K\"\n", "config.toml:2: name must be letters, digits, _, - and . only (it is typed in commands and in SOURCE:ID)"),
            ("[[sources]]\nname = \"na\"\napi_key_env = \"K\"\n[[sources]]\nname = \"na\"\napi_key_env = \"L\"\n", "config.toml:5: name \"na\" names two sources"),
            ("[[sources]]\nname = \"na\"\napi_key_env = \"K\"\nbase_url = \"ftp://x\"\n", "config.toml:4: base_url must be an http or https URL"),
            ("[[sources]]\napi_key_env = \"K\"\n", "config.toml:1: [[sources]] needs a name"),
        ]
        for (text, expected) in faults { #expect(Self.failure(text) == expected, "\(text)") }
        // The key itself, under any name but the two that say where it is, is refused unseen.
        let secret = Self.failure("[[sources]]\nname = \"na\"\napi_key = \"llx-secret-9\"\n")
        #expect(secret?.hasPrefix("config.toml:3: ") == true && secret?.contains("llx-secret-9") == false, "\(secret ?? "")")
    }

    @Test func aKeyWithControlCharactersIsShownEscaped() {
        let message = Self.failure("\"\\u001b]52;c;x\\u0007\" = 1\n")
        #expect(message == "config.toml:1: unknown key \"\\u001B]52;c;x\\u0007\" (expected db, tz, [sync], [[sources]], [[rates]], [backup], [dataset], [retention], [[redact]], [[budgets]], [mcp], [metrics])")
    }

    @Test func rateStartsAreLocalDatesLocalTimesOrInstants() throws {
        let pricing = try Pricing.fromTOML(Array("""
            [[rates]]
            input = 9
            output = 9

            [[rates]]
            from = 2026-03-01            # midnight in the report's zone
            input = 1
            output = 1

            [[rates]]
            from = 2026-03-29T03:00:00   # 03:00 on the zone's clock (Berlin: just after the spring change)
            input = 2
            output = 2

            [[rates]]
            from = 2026-04-01T12:00:00+05:30  # an instant, whatever the zone
            input = 3
            output = 3

            [[rates]]
            from = "2026-05-01"          # a quoted date reads as the date
            input = 4
            output = 4
            """.utf8), path: "prices.toml")
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin")), utc = try #require(TimeZone(identifier: "UTC"))
        let inBerlin = pricing.resolver(zone: berlin), inUTC = pricing.resolver(zone: utc)
        #expect(inBerlin(nil, try Self.seconds("2026-02-28T22:59:59Z"))?.input == 9)
        #expect(inBerlin(nil, try Self.seconds("2026-02-28T23:00:00Z"))?.input == 1)
        #expect(inUTC(nil, try Self.seconds("2026-02-28T23:00:00Z"))?.input == 9)
        #expect(inUTC(nil, try Self.seconds("2026-03-01T00:00:00Z"))?.input == 1)
        #expect(inBerlin(nil, try Self.seconds("2026-03-29T00:59:59Z"))?.input == 1)
        #expect(inBerlin(nil, try Self.seconds("2026-03-29T01:00:00Z"))?.input == 2)
        #expect(inUTC(nil, try Self.seconds("2026-03-29T02:59:59Z"))?.input == 1)
        for resolve in [inBerlin, inUTC] {
            #expect(resolve(nil, try Self.seconds("2026-04-01T06:29:59Z"))?.input == 2)
            #expect(resolve(nil, try Self.seconds("2026-04-01T06:30:00Z"))?.input == 3)
        }
        #expect(inBerlin(nil, try Self.seconds("2026-04-30T22:00:00Z"))?.input == 4)
        #expect(pricing.rates.map { $0.from?.description ?? "always" }
            == ["always", "2026-03-01", "2026-03-29T03:00:00", "2026-04-01T12:00:00+05:30", "2026-05-01"])
        // JSON files take the same three forms as text.
        #expect(RateStart(text: "2026-04-01T12:00:00+05:30") == pricing.rates[3].from)
        #expect(RateStart(text: "2026-03-29T03:00:00") == pricing.rates[2].from)
        #expect(RateStart(text: "2026-02-30") == nil && RateStart(text: "2026-03-01\nx = 1") == nil && RateStart(text: "soon") == nil)
    }

    @Test func aPriceStartingWithinAQuarterHourIsAppliedFromThatSecond() throws {
        let fixture = try QueryFixture()
        try fixture.add("before", updated: "2026-03-01T10:05:00Z", runs: [(1_000_000, 0, nil)])
        try fixture.add("after", updated: "2026-03-01T10:10:00Z", runs: [(1_000_000, 0, nil)])
        let withinAQuarter = Pricing(rates: [.init(from: nil, project: nil, input: 1, output: 0),
                                             .init(from: RateStart(text: "2026-03-01T10:07:00Z"), project: nil, input: 10, output: 0)])
        let table = try fixture.tokens(.day, pricing: withinAQuarter)
        #expect(table.total("cost_usd") == .number(11))
        let onTheQuarter = Pricing(rates: [.init(from: nil, project: nil, input: 1, output: 0),
                                           .init(from: RateStart(text: "2026-03-01T10:00:00Z"), project: nil, input: 10, output: 0)])
        #expect(try fixture.tokens(.day, pricing: onTheQuarter).total("cost_usd") == .number(20))
    }
}
