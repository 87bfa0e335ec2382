import ArchiveCore
import Foundation

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
        if let pruned = t.contentPrunedAt { line += " · content pruned \(when(pruned)): its text is gone, its usage kept" }
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
