import Foundation
import LosslessJSON

/// The files of one dataset export: one gzip file per table and day, under a
/// hidden name until `publish` renames them all into place. Rows are
/// gathered into pieces of 256 KB and compressed on a thread of its own, so
/// that reading the archive and compressing overlap on two cores.
struct PartitionWriter {
    let folder: String
    let export: Int
    /// The file open for each table, and its place in `files`.
    private var open: [String: (index: Int, day: String, pending: [UInt8])] = [:]  // our own names: tables
    private var files: [(hidden: String, relative: String, table: String, rows: Int)] = []
    private let compressor = Compressor()

    init(folder: String, export: Int) {
        self.folder = folder
        self.export = export
    }

    static func partName(export: Int) -> String { String(format: "part-%05d.jsonl.gz", export) }

    static func exportNumber(ofPart name: String) -> Int? {
        guard name.hasPrefix("part-"), name.hasSuffix(".jsonl.gz") else { return nil }
        return Int(name.dropFirst(5).prefix { $0.isNumber })
    }

    /// Each table's rows arrive day by day (sessions in last-updated order,
    /// tombstones in the order they were forgotten): a row of another day
    /// closes the table's open file.
    mutating func write(_ row: JSONRow, table: String, day: String) throws {
        if let current = open[table], current.day != day { try close(table) }
        if open[table] == nil {
            let relative = "\(table)/day=\(day)/\(Self.partName(export: export))"
            let directory = (folder as NSString).appendingPathComponent("\(table)/day=\(day)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let hidden = (directory as NSString).appendingPathComponent(".\(Self.partName(export: export)).partial")
            guard FileManager.default.createFile(atPath: hidden, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw GzipError(path: hidden, reason: "cannot be created")
            }
            try compressor.send(.open(id: files.count, path: hidden))
            open[table] = (files.count, day, [])
            files.append((hidden, relative, table, 0))
        }
        var row = row
        let index = open[table]!.index
        open[table]!.pending += row.line()
        files[index].rows += 1
        if open[table]!.pending.count >= 1 << 18 {
            try compressor.send(.write(id: index, bytes: open[table]!.pending))
            open[table]!.pending.removeAll(keepingCapacity: true)
        }
    }

    private mutating func close(_ table: String) throws {
        guard let current = open.removeValue(forKey: table) else { return }
        if !current.pending.isEmpty { try compressor.send(.write(id: current.index, bytes: current.pending)) }
        try compressor.send(.finish(id: current.index))
    }

    /// Closes every file and waits for the compression; what the manifest will list.
    mutating func finish() throws -> [DatasetManifest.File] {
        for table in open.keys.sorted() { try close(table) }
        let results = try compressor.end()
        return files.enumerated().map { index, file in
            let (bytes, sha256) = results[index] ?? (0, "")
            return DatasetManifest.File(path: file.relative, table: file.table, export: export, rows: file.rows,
                                        bytes: bytes, sha256: sha256)
        }
    }

    /// Renames every finished file into place.
    func publish() throws {
        for file in files {
            let target = (folder as NSString).appendingPathComponent(file.relative)
            guard rename(file.hidden, target) == 0 else {
                throw GzipError(path: target, reason: String(cString: strerror(errno)))
            }
        }
    }

    /// After a failure: the hidden files go.
    func abandon() {
        _ = try? compressor.end()
        for file in files { unlink(file.hidden) }
    }
}

/// The thread that compresses: files opened, written and finished in the
/// order the rows came, their sizes and digests kept for the manifest.
private final class Compressor: @unchecked Sendable {
    enum Job: Sendable {
        case open(id: Int, path: String)
        case write(id: Int, bytes: [UInt8])
        case finish(id: Int)
    }

    private let queue = BoundedQueue<Job>(capacity: 16, wakeAfter: 1)
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var failure: (any Error)?
    private var results: [Int: (bytes: Int, sha256: String)] = [:]
    private var ended = false

    init() {
        let thread = Thread { [self] in
            var writers: [Int: GzipFileWriter] = [:]
            while let job = queue.pop() {
                do {
                    switch job {
                    case let .open(id, path): writers[id] = try GzipFileWriter(path: path)
                    case let .write(id, bytes): try writers[id]?.write(bytes)
                    case .finish(let id):
                        if let writer = writers.removeValue(forKey: id) {
                            let result = try writer.finish()
                            lock.withLock { results[id] = result }
                        }
                    }
                } catch {
                    lock.withLock { if failure == nil { failure = error } }
                    queue.cancel()
                }
            }
            done.signal()
        }
        thread.start()
    }

    func send(_ job: Job) throws {
        if !queue.push(job) { try lock.withLock { if let failure { throw failure } } }
    }

    /// Waits for every job; the files' sizes and digests, or the first failure.
    func end() throws -> [Int: (bytes: Int, sha256: String)] {
        let first = lock.withLock { () -> Bool in
            defer { ended = true }
            return !ended
        }
        if first {
            queue.finish()
            done.wait()
        }
        return try lock.withLock {
            if let failure { throw failure }
            return results
        }
    }
}

/// `_manifest.json`: what the dataset holds and where the next export starts.
struct DatasetManifest {
    struct File: Sendable, Equatable {
        let path: String
        let table: String
        let export: Int
        let rows: Int
        let bytes: Int
        let sha256: String

        func with(rows: Int, bytes: Int, sha256: String) -> File {
            File(path: path, table: table, export: export, rows: rows, bytes: bytes, sha256: sha256)
        }
    }

    struct Export: Sendable, Equatable {
        let number: Int
        let at: String
        let full: Bool
        let cursor: Int64
        let sessions: Int
        /// Files of earlier exports this one rewrote or removed: they held
        /// sessions forgotten, pruned or redacted since.
        var replaced: [String] = []
    }

    static let format = "llamacloud-archive-dataset"
    var archiveID: String
    var schemaVersion = 0
    var cursor: Int64 = 0
    var exports: [Export] = []
    var files: [File] = []

    init(archiveID: String) { self.archiveID = archiveID }

    static func read(_ path: String) throws -> DatasetManifest? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        func fail(_ reason: String) -> DatasetExport.ExportError { .unreadableManifest(path: path, reason: reason) }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(data)) } catch { throw fail("not JSON: \(error.message)") }
        guard value["format"]?.stringValue == format, let archiveID = value["archive_id"]?.stringValue,
              let cursor = value["cursor"]?.int64Value, let exports = value["exports"]?.arrayValue,
              let files = value["files"]?.arrayValue
        else { throw fail("not a manifest of a dataset this tool wrote") }
        var manifest = DatasetManifest(archiveID: archiveID)
        manifest.schemaVersion = Int(value["schema_version"]?.int64Value ?? 0)
        manifest.cursor = cursor
        for export in exports {
            guard let number = export["number"]?.int64Value, let at = export["at"]?.stringValue,
                  let full = export["full"]?.boolValue, let cursor = export["cursor"]?.int64Value,
                  let sessions = export["sessions"]?.int64Value else { throw fail("an export without its number, time or cursor") }
            let replaced = export["replaced"]?.arrayValue?.compactMap(\.stringValue) ?? []
            manifest.exports.append(Export(number: Int(number), at: at, full: full, cursor: cursor, sessions: Int(sessions),
                                           replaced: replaced))
        }
        for file in files {
            guard let path = file["path"]?.stringValue, let table = file["table"]?.stringValue,
                  let export = file["export"]?.int64Value, let rows = file["rows"]?.int64Value,
                  let bytes = file["bytes"]?.int64Value, let sha256 = file["sha256"]?.stringValue
            else { throw fail("a file without its path, rows, size or digest") }
            manifest.files.append(File(path: path, table: table, export: Int(export), rows: Int(rows), bytes: Int(bytes), sha256: sha256))
        }
        return manifest
    }

    var json: JSONValue {
        func number(_ value: some BinaryInteger) -> JSONValue { .number(JSONNumber(Int64(value))) }
        return .object(JSONObject([
            ("format", .string(Self.format)), ("format_version", number(1)), ("archive_id", .string(archiveID)),
            ("schema_version", number(schemaVersion)), ("cursor", number(cursor)),
            ("tables", .array(DatasetExport.tables.map(JSONValue.string))),
            ("exports", .array(exports.map { export in
                .object(JSONObject([("number", number(export.number)), ("at", .string(export.at)), ("full", .bool(export.full)),
                                    ("cursor", number(export.cursor)), ("sessions", number(export.sessions)),
                                    ("replaced", .array(export.replaced.map(JSONValue.string)))]))
            })),
            ("files", .array(files.map { file in
                .object(JSONObject([("path", .string(file.path)), ("table", .string(file.table)), ("export", number(file.export)),
                                    ("rows", number(file.rows)), ("bytes", number(file.bytes)), ("sha256", .string(file.sha256))]))
            })),
        ]))
    }

    /// Replaces the manifest: written beside it under a hidden name, on disk, then renamed.
    func write(to path: String) throws {
        try PrivateFiles.write(to: path) { handle in
            var writer = JSONWriter()
            writer.write(json)
            writer.appendASCII("\n")
            try handle.write(contentsOf: writer.bytes)
        }
    }
}
