import Foundation
import LosslessJSON
import SQLiteCore

/// Forgetting reaches the dataset: the sessions forgotten, pruned or redacted
/// since the last export lose every row of their earlier snapshots. Each
/// partition file that holds one is rewritten without it under a hidden name
/// and renamed over the old one (a reader sees the old file or the new,
/// never half), or removed when nothing is left in it; the tombstones stay.
///
/// Which files hold a session comes from the export's index,
/// `_index/export-NNNNN.jsonl.gz` (a line per session snapshot: its id,
/// source and day), so the cost is the files touched plus one read of the
/// indexes, not a read of the dataset. An export written before indexes
/// existed gets one from its `sessions` files the first time it is needed.
struct DatasetPurge {
    struct Session: Hashable {
        let id: ExactText
        let source: ExactText
    }

    static let indexFolder = "_index"
    static let tablesWithRows = ["sessions", "events", "tool_calls", "usage"]

    let folder: String

    static func indexPath(export: Int) -> String { "\(indexFolder)/" + String(format: "export-%05d.jsonl.gz", export) }

    /// The sessions whose earlier rows must go: forgotten (wholly or keeping
    /// their usage), pruned or redacted after the change number `cursor`.
    static func sessions(removedAfter cursor: Int64, in database: Database) throws -> Set<Session> {
        var found = Set<Session>()
        try database.forEachRow("""
            SELECT f.session_id, so.name FROM forgotten f JOIN sources so USING (source_key) WHERE f.change_seq > ?1
            UNION
            SELECT c.session_id, so.name FROM content_removals c JOIN sources so USING (source_key) WHERE c.change_seq > ?1
            """, cursor) { row in
            found.insert(Session(id: ExactText(try row.string(0)), source: ExactText(try row.string(1))))
        }
        return found
    }

    /// Rewrites the files of exports before `export` that hold `sessions`;
    /// updates their entries in `manifest` and returns their paths.
    func run(removing sessions: Set<Session>, before export: Int, manifest: inout DatasetManifest) throws -> [String] {
        guard !sessions.isEmpty else { return [] }
        let listed = Dictionary(manifest.files.enumerated().map { ($0.element.path, $0.offset) }, uniquingKeysWith: { first, _ in first })
        var touched: [String: Set<Session>] = [:]
        for earlier in manifest.exports.map(\.number) where earlier < export {
            try ensureIndex(export: earlier, manifest: manifest)
            try Self.forEachIndexLine(path: path(Self.indexPath(export: earlier))) { session, day in
                guard sessions.contains(session) else { return }
                for table in Self.tablesWithRows {
                    let file = "\(table)/day=\(day)/\(PartitionWriter.partName(export: earlier))"
                    if listed[file] != nil { touched[file, default: []].insert(session) }
                }
            }
        }
        // Files are rewritten on every core at once: each is its own, and compressing is the cost.
        let files = touched.keys.sorted()
        let dropping = files.map { touched[$0]! }
        let outcomes = Outcomes(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            outcomes.set(index, Result { try rewrite(files[index], without: dropping[index]) })
        }
        var replaced: [String] = []
        var gone = Set<String>()
        for (file, outcome) in zip(files, outcomes.all) {
            let index = listed[file]!
            switch try outcome!.get() {
            case .unchanged(let rows, let bytes, let sha256):
                manifest.files[index] = manifest.files[index].with(rows: rows, bytes: bytes, sha256: sha256)
            case .rewritten(let rows, let bytes, let sha256):
                manifest.files[index] = manifest.files[index].with(rows: rows, bytes: bytes, sha256: sha256)
                replaced.append(file)
            case .removed:
                gone.insert(file)
                replaced.append(file)
            }
        }
        manifest.files.removeAll { gone.contains($0.path) }
        return replaced
    }

    private enum Outcome {
        case unchanged(rows: Int, bytes: Int, sha256: String)
        case rewritten(rows: Int, bytes: Int, sha256: String)
        case removed
    }

    /// The rewrites' outcomes, set from several threads.
    private final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Result<Outcome, any Error>?]

        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<Outcome, any Error>) { lock.withLock { values[index] = value } }
        var all: [Result<Outcome, any Error>?] { lock.withLock { values } }
    }

    private func path(_ relative: String) -> String { (folder as NSString).appendingPathComponent(relative) }

    /// The file without the rows of `sessions`: written beside it under a
    /// hidden name, on disk, then renamed over it.
    private func rewrite(_ relative: String, without sessions: Set<Session>) throws -> Outcome {
        let target = path(relative)
        let hidden = ((target as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent(".\((target as NSString).lastPathComponent).rewrite")
        guard FileManager.default.createFile(atPath: hidden, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw GzipError(path: hidden, reason: "cannot be created")
        }
        var kept = 0, dropped = 0
        var pending: [UInt8] = []
        do {
            let writer = try GzipFileWriter(path: hidden)
            let (bytes, sha256) = try GzipFileReader(path: target).forEachLine { line in
                if let session = Self.session(ofRow: line), sessions.contains(session) {
                    dropped += 1
                    return
                }
                kept += 1
                pending += line
                pending.append(UInt8(ascii: "\n"))
                if pending.count >= 1 << 18 {
                    try writer.write(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            if dropped == 0 {
                unlink(hidden)
                return .unchanged(rows: kept, bytes: bytes, sha256: sha256)
            }
            if kept == 0 {
                unlink(hidden)
                guard unlink(target) == 0 || errno == ENOENT else { throw GzipError(path: target, reason: String(cString: strerror(errno))) }
                return .removed
            }
            try writer.write(pending)
            let (newBytes, newSHA) = try writer.finish()
            guard rename(hidden, target) == 0 else { throw GzipError(path: target, reason: String(cString: strerror(errno))) }
            return .rewritten(rows: kept, bytes: newBytes, sha256: newSHA)
        } catch {
            unlink(hidden)
            throw error
        }
    }

    /// A row's session: its first two members, as every table's rows begin
    /// (`{"session_id":"…","source":"…",…`): only they are parsed, not the
    /// row's text; a row of another shape is parsed whole.
    static func session(ofRow line: [UInt8]) -> Session? {
        var end = 0, strings = 0, inString = false, escaped = false
        for (index, byte) in line.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    strings += 1
                    if strings == 4 { end = index + 1; break }
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            }
        }
        let prefix = end > 0 ? Array(line[..<end]) + [UInt8(ascii: "}")] : line
        guard let row = try? JSONParser.parse(prefix), let id = row["session_id"]?.stringValue,
              let source = row["source"]?.stringValue else {
            return end > 0 ? session(ofWholeRow: line) : nil
        }
        return Session(id: ExactText(id), source: ExactText(source))
    }

    private static func session(ofWholeRow line: [UInt8]) -> Session? {
        guard let row = try? JSONParser.parse(line), let id = row["session_id"]?.stringValue,
              let source = row["source"]?.stringValue else { return nil }
        return Session(id: ExactText(id), source: ExactText(source))
    }

    static func forEachIndexLine(path: String, _ body: (Session, String) throws -> Void) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        _ = try GzipFileReader(path: path).forEachLine { line in
            guard let row = try? JSONParser.parse(line), let id = row["session_id"]?.stringValue,
                  let source = row["source"]?.stringValue, let day = row["day"]?.stringValue else { return }
            try body(Session(id: ExactText(id), source: ExactText(source)), day)
        }
    }

    /// An index for an export written before indexes were: from its `sessions` files.
    private func ensureIndex(export: Int, manifest: DatasetManifest) throws {
        let target = path(Self.indexPath(export: export))
        guard !FileManager.default.fileExists(atPath: target) else { return }
        var index = IndexWriter(folder: folder, export: export)
        for file in manifest.files where file.table == "sessions" && file.export == export {
            let day = file.path.split(separator: "/").dropFirst().first.map { String($0.dropFirst("day=".count)) } ?? ""
            _ = try GzipFileReader(path: path(file.path)).forEachLine { line in
                if let session = Self.session(ofRow: line) { try index.add(id: session.id.text, source: session.source.text, day: day) }
            }
        }
        try index.publish()
    }
}

/// `_index/export-NNNNN.jsonl.gz`: a line per session an export wrote, with its day.
struct IndexWriter {
    private let target: String
    private let hidden: String
    private var writer: GzipFileWriter?
    private var pending: [UInt8] = []

    init(folder: String, export: Int) {
        target = (folder as NSString).appendingPathComponent(DatasetPurge.indexPath(export: export))
        hidden = ((target as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent(".\((target as NSString).lastPathComponent).partial")
    }

    mutating func add(id: String, source: String, day: String) throws {
        if writer == nil {
            try FileManager.default.createDirectory(atPath: (hidden as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: hidden, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw GzipError(path: hidden, reason: "cannot be created")
            }
            writer = try GzipFileWriter(path: hidden)
        }
        var line = JSONRow()
        line.add("session_id", id)
        line.add("source", source)
        line.add("day", day)
        pending += line.line()
        if pending.count >= 1 << 18 {
            try writer!.write(pending)
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Finishes the file and renames it into place (nothing when no session was added).
    mutating func publish() throws {
        guard let writer else { return }
        try writer.write(pending)
        _ = try writer.finish()
        guard rename(hidden, target) == 0 else { throw GzipError(path: target, reason: String(cString: strerror(errno))) }
        self.writer = nil
    }

    func abandon() { unlink(hidden) }
}
