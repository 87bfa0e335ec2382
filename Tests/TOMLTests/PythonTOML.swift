import Foundation
import LosslessJSON
import TOML

/// A value as both readers are compared: leaves as a type and a text (floats
/// by their bits), tables with their keys in byte order.
indirect enum Canonical: Equatable, CustomStringConvertible {
    case leaf(type: String, value: ExactText)
    case array([Canonical])
    /// Members in byte order of their keys (`sorted`).
    case table([Member])

    struct Member: Equatable {
        let key: ExactText
        let value: Canonical
    }

    var description: String {
        switch self {
        case .leaf(let type, let value): "\(type)(\(value.text.debugDescription))"
        case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .table(let members): "{" + members.map { "\($0.key.text.debugDescription): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }

    static func sorted(_ members: [Member]) -> Canonical { .table(members.sorted { $0.key < $1.key }) }

    init(_ table: TOMLTable) {
        self = .sorted(table.entries.map { Member(key: ExactText($0.key), value: Canonical($0.value)) })
    }

    init(_ value: TOMLValue) {
        switch value {
        case .string(let text): self = .leaf(type: "string", value: ExactText(text))
        case .integer(let number): self = .leaf(type: "integer", value: ExactText(String(number)))
        case .float(let number):
            self = .leaf(type: "float", value: ExactText(number.isNaN ? "nan" : String(Int64(bitPattern: number.bitPattern))))
        case .boolean(let flag): self = .leaf(type: "boolean", value: ExactText(flag ? "true" : "false"))
        case .offsetDateTime(let date, let time, let offset):
            let sign = offset < 0 ? "-" : "+"
            let zone = sign + String(format: "%02d:%02d", abs(offset) / 60, abs(offset) % 60)
            self = .leaf(type: "offset-datetime", value: ExactText(Self.iso(date) + "T" + Self.iso(time) + zone))
        case .localDateTime(let date, let time): self = .leaf(type: "local-datetime", value: ExactText(Self.iso(date) + "T" + Self.iso(time)))
        case .localDate(let date): self = .leaf(type: "local-date", value: ExactText(Self.iso(date)))
        case .localTime(let time): self = .leaf(type: "local-time", value: ExactText(Self.iso(time)))
        case .array(let items): self = .array(items.map(Canonical.init))
        case .table(let table): self = Canonical(table)
        }
    }

    /// Python's `isoformat()`.
    static func iso(_ date: TOMLDate) -> String { String(format: "%04d-%02d-%02d", date.year, date.month, date.day) }
    static func iso(_ time: TOMLTime) -> String {
        String(format: "%02d:%02d:%02d", time.hour, time.minute, time.second) + (time.microsecond == 0 ? "" : String(format: ".%06d", time.microsecond))
    }

    /// The form `PythonTOML.script` prints.
    init(python value: JSONValue) throws {
        if let table = value["table"]?.objectValue {
            self = .sorted(try table.members.map { Member(key: ExactText($0.key), value: try Canonical(python: $0.value)) })
        } else if let items = value["array"]?.arrayValue {
            self = .array(try items.map(Canonical.init(python:)))
        } else if let type = value["type"]?.stringValue, let text = value["value"]?.stringValue {
            self = .leaf(type: type, value: ExactText(text))
        } else {
            throw PythonTOML.Failure(description: "unexpected output \(value.serialized)")
        }
    }
}

/// Python's `tomllib` (standard library since 3.11), run once over many documents.
enum PythonTOML {
    enum Outcome {
        case value(Canonical)
        case refused(String)
        /// An integer beyond 64 bits: `tomllib` keeps it, TOML 1.0 says to refuse it.
        case beyond64Bits
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static let script = #"""
import datetime, json, struct, sys, tomllib

class Beyond64Bits(Exception):
    pass

def canonical(value):
    if isinstance(value, dict):
        return {"table": {key: canonical(item) for key, item in value.items()}}
    if isinstance(value, list):
        return {"array": [canonical(item) for item in value]}
    if isinstance(value, bool):
        return {"type": "boolean", "value": "true" if value else "false"}
    if isinstance(value, int):
        if not -2**63 <= value < 2**63:
            raise Beyond64Bits()
        return {"type": "integer", "value": str(value)}
    if isinstance(value, float):
        bits = "nan" if value != value else str(struct.unpack("<q", struct.pack("<d", value))[0])
        return {"type": "float", "value": bits}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    if isinstance(value, datetime.datetime):
        return {"type": "offset-datetime" if value.tzinfo else "local-datetime", "value": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"type": "local-date", "value": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"type": "local-time", "value": value.isoformat()}
    raise TypeError(type(value))

results = []
for document in json.load(open(sys.argv[1])):
    try:
        results.append({"value": canonical(tomllib.loads(bytes.fromhex(document).decode("utf-8-sig")))})
    except Beyond64Bits:
        results.append({"beyond64Bits": True})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        results.append({"refused": str(error)})
print(json.dumps(results))
"""#

    /// What `tomllib` makes of each document (decoded as `utf-8-sig`, as the
    /// archive reads its files).
    static func outcomes(_ documents: [[UInt8]]) throws -> [Outcome] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("toml-differential-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("documents.json")
        let hex = documents.map { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
        try JSONValue.array(hex.map(JSONValue.string)).serialized.write(to: input, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, input.path]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 with tomllib (3.11 or later) is needed: \(String(decoding: complaint, as: UTF8.self))")
        }
        guard let results = try JSONParser.parse(String(decoding: data, as: UTF8.self)).arrayValue, results.count == documents.count else {
            throw Failure(description: "python3 printed something else")
        }
        return try results.map { result in
            if let value = result["value"] { return .value(try Canonical(python: value)) }
            if result["beyond64Bits"] != nil { return .beyond64Bits }
            return .refused(result["refused"]?.stringValue ?? "?")
        }
    }

    /// Where our reader and `tomllib` part on one document; nil when they agree.
    static func disagreement(_ document: [UInt8], _ outcome: Outcome) -> String? {
        let ours: Result<TOMLTable, TOMLError> = Result { () throws(TOMLError) in try TOMLReader.parse(fileContents: document) }
        switch (outcome, ours) {
        case (.value(let expected), .success(let table)):
            let found = Canonical(table)
            return found == expected ? nil : "values differ:\n  tomllib: \(expected)\n  ours:    \(found)"
        case (.value(let expected), .failure(let error)): return "tomllib reads \(expected), ours refuses: \(error)"
        case (.refused, .failure): return nil
        case (.refused(let why), .success(let table)): return "tomllib refuses (\(why)), ours reads \(Canonical(table))"
        case (.beyond64Bits, .failure(let error)): return error.message.contains("64 bits") ? nil : "refused for another reason: \(error)"
        case (.beyond64Bits, .success): return "an integer beyond 64 bits was read"
        }
    }
}
