import ArchiveCore
import ArgumentParser
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report of spend and tokens: one self-contained file, no script, readable offline.",
        discussion: helpText("""
            Spend and tokens over time stacked by project (days, or weeks past 120 days), by project and by index, \
            the 20 costliest sessions, tool calls with failure rates, error runs over time, and the prices used. \
            Prices as for `archive tokens`; without any, the figures are tokens.
            """, examples:
            "archive report --price-input 3 --price-output 15 --out report.html"))

    @OptionGroup var location: ArchiveLocationOptions
    @OptionGroup var time: TimeOptions
    @OptionGroup var prices: PricingOptions
    @Option(name: .customLong("project"), help: "Only this project; repeat for several.") var projects: [String] = []
    @OptionGroup var sourceFilter: SourceFilterOptions
    @Option(help: "Write to this file (- for standard output).") var out = "llamacloud-archive-report.html"

    func run() throws {
        let archive = location.archive()
        let window = try time.window(archive.settings)
        let pricing = try prices.resolved(archive.settings)
        try archive.reading { store in
            var report = HTMLReport(window: window, projects: projects, pricing: pricing, subject: store.path,
                                    generatedAt: Timestamp.format(date: Date()))
            report.sources = sourceFilter.sources
            report.pricingHints = ["--price-input and --price-output", "--pricing FILE", "[[rates]] in the config file"]
            let page = try answer { try report.render(reader: store) }
            for warning in page.warnings { Terminal.standardError.writeLine("archive: \(warning.oneLineSafe)") }
            let html = page.html
            if out == "-" {
                Terminal.standardOutput.write(html)
                return
            }
            if ExportCommand.isPartOfArchive(out, archive: store.path) {
                throw fail("--out \(out) is the archive itself (or its journal): refused", code: ExitStatus.usage)
            }
            do { try PrivateFiles.write(to: out) { try $0.write(contentsOf: Data(html.utf8)) } } catch {
                throw fail("cannot write \(out): \(error)", code: ExitStatus.fatal)
            }
            Terminal.standardError.writeLine("archive: wrote \(out) (\(ByteCountFormatter.string(fromByteCount: Int64(html.utf8.count), countStyle: .file)))")
        }
    }
}
