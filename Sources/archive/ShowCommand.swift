import ArchiveCore
import ArgumentParser
import Foundation

struct ShowCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument { case text, markdown, json }

    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print one session's transcript (text, markdown, or the JSON the API sent).",
        discussion: helpText(examples:
            "archive show ses-1-5598 --format markdown",
            "archive show ses-1-559891948d23 --thinking --run 1 --no-pager"))

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
        try location.archive().reading(allowEmpty: true) { store in
            let sessionID = try resolveSession(self.sessionID, in: store)
            let out = Terminal.standardOutput
            if format == .json {
                guard let json = try answer({ try store.sessionKey(typed: sessionID).flatMap(store.sessionJSON(sessionKey:)) }) else {
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
}
