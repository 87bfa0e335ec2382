import Foundation
import LosslessJSON

/// The files of one dataset export: one gzip file per table and day, under a
/// hidden name until `publish` renames them all into place.
struct PartitionWriter {
    let folder: String
    let export: Int
    private var open: [String: (writer: GzipFileWriter, relative: String, rows: Int)] = [:]
    private var day: String?
    private var finished: [(hidden: String, file: DatasetManifest.File)] = []

    init(folder: String, export: Int) {
        self.folder = folder
        self.export = export
    }

    static func partName(export: Int) -> String { String(format: "part-%05d.jsonl.gz", export) }

    static func exportNumber(ofPart name: String) -> Int? {
        guard name.hasPrefix("part-"), name.hasSuffix(".jsonl.gz") else { return nil }
        return Int(name.dropFirst(5).prefix { $0.isNumber })
    }

    /// Rows arrive day by day (sessions in last-updated order); a new day closes the last one's files.
    mutating func write(_ row: JSONRow, table: String, day: String) throws {
        if day != self.day, table != "deletions" {
            try closeAll(except: "deletions")
            self.day = day
        }
        let key = table == "deletions" ? "deletions/\(day)" : table
        if let current = open[key], !current.relative.hasPrefix("\(table)/day=\(day)/") {
            try close(key)
        }
        if open[key] == nil {
            let relative = "\(table)/day=\(day)/\(Self.partName(export: export))"
            let directory = (folder as NSString).appendingPathComponent("\(table)/day=\(day)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let hidden = (directory as NSString).appendingPathComponent(".\(Self.partName(export: export)).partial")
            guard FileManager.default.createFile(atPath: hidden, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw GzipFileWriter.Failure(path: hidden, reason: "cannot be created")
            }
            open[key] = (try GzipFileWriter(path: hidden), relative, 0)
        }
        var row = row
        try open[key]!.writer.write(row.line())
        open[key]!.rows += 1
    }

    private mutating func close(_ key: String) throws {
        guard let current = open.removeValue(forKey: key) else { return }
        let (bytes, sha256) = try current.writer.finish()
        finished.append((current.writer.path, DatasetManifest.File(path: current.relative, table: String(key.prefix { $0 != "/" }),
                                                                    export: export, rows: current.rows, bytes: bytes, sha256: sha256)))
    }

    private mutating func closeAll(except table: String? = nil) throws {
        for key in open.keys.sorted() where table == nil || !key.hasPrefix(table!) { try close(key) }
    }

    /// Closes every file; what the manifest will list.
    mutating func finish() throws -> [DatasetManifest.File] {
        try closeAll()
        return finished.map(\.file)
    }

    /// Renames every finished file into place.
    func publish() throws {
        for (hidden, file) in finished {
            let target = (folder as NSString).appendingPathComponent(file.path)
            guard rename(hidden, target) == 0 else {
                throw GzipFileWriter.Failure(path: target, reason: String(cString: strerror(errno)))
            }
        }
    }

    /// After a failure: the hidden files go.
    func abandon() {
        for (hidden, _) in finished { unlink(hidden) }
        for (_, current) in open { unlink(current.writer.path) }
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
    }

    struct Export: Sendable, Equatable {
        let number: Int
        let at: String
        let full: Bool
        let cursor: Int64
        let sessions: Int
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
        func fail(_ reason: String) -> DatasetExport.Failure { .unreadableManifest(path: path, reason: reason) }
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
            manifest.exports.append(Export(number: Int(number), at: at, full: full, cursor: cursor, sessions: Int(sessions)))
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
                                    ("cursor", number(export.cursor)), ("sessions", number(export.sessions))]))
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
