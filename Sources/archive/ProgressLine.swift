import ArchiveCore
import Foundation

/// One line on standard error, redrawn at most ten times a second.
final class ProgressLine {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: SyncProgress) {
        let rate = progress.elapsed > 0 ? Double(progress.done) / progress.elapsed : 0
        let listing = progress.listingFinished ? "listed \(progress.listed)" : "listing… \(progress.listed) (\(progress.pagesListed) pages)"
        draw("\(listing) · fetched \(progress.done)/\(progress.queued) · \(String(format: "%.0f", rate))/s")
    }

    /// `archive import`: records so far, MB/s, and the time left from the size of the files.
    func update(_ progress: Importer.Progress) {
        let megabytes = Double(progress.bytesRead) / 1_000_000
        var text = "importing… \(grouped(progress.records)) records · \(String(format: "%.1f", progress.elapsed > 0 ? megabytes / progress.elapsed : 0)) MB/s"
        if let total = progress.totalBytes, total > 0, progress.bytesRead > 0, progress.elapsed > 0.5 {
            let left = progress.elapsed * Double(total - min(total, progress.bytesRead)) / Double(progress.bytesRead)
            text += " · \(Int(Double(progress.bytesRead) * 100 / Double(total)))% · ETA \(Int(left.rounded())) s"
        }
        draw(text)
    }

    /// A line of its own, redrawn at most ten times a second.
    func draw(_ text: String, force: Bool = false) {
        guard enabled, force || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        Terminal.standardError.write("\r\u{1B}[2K" + String(text.prefix(max(20, Terminal.standardError.width - 1))))
        drawn = true
    }

    func clear() {
        if drawn { Terminal.standardError.write("\r\u{1B}[2K") }
    }
}
