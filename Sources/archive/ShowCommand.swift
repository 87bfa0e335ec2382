import ArchiveCore
import ArgumentParser
import Foundation

struct ShowCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument { case text, markdown, json }

    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print one session's transcript (text, markdown, or the JSON the API sent).")

    @OptionGroup var location: ArchiveLocationOptions
    @Argument(help: "The session id, or a unique start of it.") var sessionID: String
    @Option(name: .customLong("format"), help: "text, markdown or json.") var requested: Format = .text
    @Flag(help: "Shorthand for --format json: the session as the API sent it.") var json = false
    var format: Format { json ? .json : requested }
    @Flag(help: "Include the model's thinking.") var thinking = false
    @Flag(help: "Show tool results whole (they are cut at 300 characters, 1,000 in markdown).") var full = false
    @OptionGroup var pager: PagerOptions
    @Option(help: "IANA time zone for times shown.") var tz: String?
    @Option(name: .customLong("run"), help: "Only this run (1 is the first, as in the transcript and search).") var onlyRun: Int?

    func run() throws {
        let store = try openArchiveForReading(location, allowEmpty: true)
        let sessionID = try resolveSession(self.sessionID, in: store)
        let out = Terminal.standardOutput
        if format == .json {
            guard let json = try answer({ try store.sessionJSON(sessionID: sessionID) }) else {
                throw fail(ArchiveError.unknownSession(sessionID), code: ExitStatus.fatal)
            }
            out.writeLine(json)  // JSON escapes every control character
            return
        }
        guard var transcript = try answer({ try store.transcript(sessionID: sessionID) }) else {
            throw fail(ArchiveError.unknownSession(sessionID), code: ExitStatus.fatal)
        }
        if let onlyRun {
            guard let only = transcript.runs.first(where: { $0.index + 1 == onlyRun }) else {
                throw fail("session \(sessionID) has no run \(onlyRun) (it has \(transcript.runs.count))", code: ExitStatus.fatal)
            }
            transcript.runs = [only]
        }
        let zone = tz.flatMap(TimeZone.init(identifier:)) ?? .current
        if tz != nil && TimeZone(identifier: tz!) == nil { throw fail("unknown time zone \"\(tz!)\"", code: ExitStatus.usage) }
        let renderer = TranscriptRenderer(terminal: out, zone: zone, showThinking: thinking, full: full)
        let text = format == .markdown ? renderer.markdown(transcript) : renderer.text(transcript)
        Pager.page(enabled: pager.enabled) { out.write(text) }
    }
}

struct TranscriptRenderer {
    let terminal: Terminal
    let zone: TimeZone
    let showThinking: Bool
    var full = false

    static let resultLimit = 300
    static let markdownResultLimit = 1_000

    func when(_ normalized: String) -> String {
        guard let date = Timestamp.date(fromNormalized: normalized) else { return normalized }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm zzz"
        return formatter.string(from: date)
    }

    func shortened(_ text: String, _ limit: Int = resultLimit) -> String {
        full || text.count <= limit ? text : String(text.prefix(limit)) + "… (\(text.count - limit) more characters; --full shows all)"
    }

    /// A result as a markdown code block: a cut one still closes its block,
    /// and says below it what was left out.
    func resultBlock(_ text: String) -> String {
        let safe = text.terminalSafe
        guard !full, safe.count > Self.markdownResultLimit else { return "Result:\n\n```json\n\(safe)\n```\n\n" }
        return "Result (cut):\n\n```json\n\(safe.prefix(Self.markdownResultLimit))\n```\n\n"
            + "*\(safe.count - Self.markdownResultLimit) more characters not shown; `--full` shows all.*\n\n"
    }

    func usageLine(_ usage: StopUsage) -> String {
        var parts: [String] = []
        parts.append("\(usage.inputTokens.map { grouped(Int($0)) } ?? "–") in / \(usage.outputTokens.map { grouped(Int($0)) } ?? "–") out tokens")
        if let duration = usage.durationMs { parts.append(String(format: "%.1f s", duration / 1000)) }
        if let turns = usage.agentTurns { parts.append("\(turns) agent turn\(turns == 1 ? "" : "s")") }
        if usage.isError { parts.append("error: \((usage.error ?? "unknown").oneLineSafe)") }
        return parts.joined(separator: " · ")
    }

    func header(_ t: Transcript) -> String {
        var line = "\(t.runs.count) run\(t.runs.count == 1 ? "" : "s") · updated \(when(t.lastUpdatedAt))"
        if let project = t.projectID { line = "project \(project.oneLineSafe) · " + line }
        if let deleted = t.deletedAt { line += " · deleted remotely \(when(deleted))" }
        return line
    }

    func text(_ t: Transcript) -> String {
        var out = terminal.bold((t.title ?? "(untitled)").oneLineSafe) + "\n" + terminal.dim("\(t.sessionID.oneLineSafe) · " + header(t)) + "\n"
        for run in t.runs {
            out += "\n" + terminal.bold("── Run \(run.index + 1) ") + "\n"
            if let input = run.userInput { out += terminal.bold("> ") + input.terminalSafe.replacingOccurrences(of: "\n", with: "\n> ") + "\n" }
            if showThinking, let thinking = run.thinking { out += terminal.dim("[thinking] " + thinking.terminalSafe) + "\n" }
            for call in run.toolCalls {
                out += "→ \((call.name ?? "tool").oneLineSafe) \((call.arguments ?? "").terminalSafe)\n"
                if let result = call.result {
                    out += "  ← " + shortened(result).terminalSafe + (call.imageAttachment.map { " [image \($0.oneLineSafe)]" } ?? "") + "\n"
                } else {
                    out += terminal.red("  ← (no result)") + "\n"
                }
            }
            for other in run.otherEvents { out += terminal.dim("· " + shortened(other).terminalSafe) + "\n" }
            if let answer = run.answer { out += answer.terminalSafe + "\n" }
            if let usage = run.usage {
                let line = "· " + usageLine(usage)
                out += (usage.isError ? terminal.red(line) : terminal.dim(line)) + "\n"
            }
        }
        return out
    }

    func markdown(_ t: Transcript) -> String {
        var out = "# \((t.title ?? "(untitled)").oneLineSafe)\n\n`\(t.sessionID.oneLineSafe)` · \(header(t))\n"
        for run in t.runs {
            out += "\n## Run \(run.index + 1)\n\n"
            if let input = run.userInput { out += "**User:** \(input.terminalSafe)\n\n" }
            if showThinking, let thinking = run.thinking {
                out += "<details><summary>Thinking</summary>\n\n\(thinking.terminalSafe)\n\n</details>\n\n"
            }
            for call in run.toolCalls {
                out += "**Tool call** `\((call.name ?? "tool").oneLineSafe)`\n\n```json\n\((call.arguments ?? "{}").terminalSafe)\n```\n\n"
                out += call.result.map(resultBlock) ?? "*No result.*\n\n"
            }
            for other in run.otherEvents { out += "> \(shortened(other).terminalSafe)\n\n" }
            if let answer = run.answer { out += "**Answer:** \(answer.terminalSafe)\n\n" }
            if let usage = run.usage { out += "*\(usageLine(usage))*\n" }
        }
        return out
    }
}
