import Foundation
import LosslessJSON
import TOML

/// A pricing file (`--pricing FILE`) and the config file's `[[rates]]`, read
/// where the config file is read, by the same rules.
extension Pricing {
    /// Reads a pricing file: JSON (`{"rates": [{...}]}` or a bare array) or TOML (`[[rates]]` tables).
    /// Each rate has `input` and `output` (USD per million tokens), optional `from` and `project`.
    public static func load(path: String) throws(SettingsFileError) -> Pricing {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, kind: .pricing)
        }
        let bytes = Array(data)
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...]
        // JSON starts with `{` or `[`; TOML's `[[rates]]` with `[[`.
        let start = body.drop { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if start.first == UInt8(ascii: "{") || (start.first == UInt8(ascii: "[") && start.dropFirst().first != UInt8(ascii: "[")) {
            guard let text = String(validating: body, as: UTF8.self) else { throw .fault(path: path, line: nil, place: nil, message: "the pricing file is not UTF-8") }
            return try fromJSON(text, path: path)
        }
        return try fromTOML(bytes, path: path)
    }

    /// A pricing file in JSON: its rates are read by the same rules as TOML's.
    static func fromJSON(_ text: String, path: String) throws(SettingsFileError) -> Pricing {
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch {
            throw .fault(path: path, line: error.line, place: nil, message: error.message)
        }
        guard let list = value.arrayValue ?? value["rates"]?.arrayValue else {
            throw .fault(path: path, line: nil, place: nil, message: "expected {\"rates\": [...]} or an array of rates")
        }
        func toml(_ value: JSONValue) -> TOMLValue? {
            switch value {
            case .string(let text): .string(text)
            case .number(let number): number.int64Value.map(TOMLValue.integer) ?? .float(number.doubleValue ?? .nan)
            case .bool(let flag): .boolean(flag)
            case .null: nil
            case .array(let items): .array(items.compactMap(toml))
            case .object(let object): .table(TOMLTable(entries: object.members.compactMap { member in
                toml(member.value).map { TOMLTable.Entry(key: member.key, value: $0, line: 0) }
            }, line: 0))
            }
        }
        let tables = try list.enumerated().map { index, item throws(SettingsFileError) in
            guard case .table(let table)? = toml(item) else { throw SettingsFileError.fault(path: path, line: nil, place: "rate \(index + 1)", message: "not an object") }
            return TOMLFields(table: table, path: path, name: "rate \(index + 1)")
        }
        return Pricing(rates: try tables.map(rate))
    }

    /// A pricing file in TOML: `[[rates]]` and nothing else.
    static func fromTOML(_ bytes: [UInt8], path: String) throws(SettingsFileError) -> Pricing {
        let file = try TOMLFields.read(bytes, path: path)
        if let other = file.table.entries.first(where: { !$0.key.sameBytes(as: "rates") }) {
            throw file.failure(line: other.line, "expected [[rates]], not \(TOMLReader.display([other.key]))")
        }
        guard let pricing = try rates(in: file) else { throw SettingsFileError.fault(path: path, line: nil, place: nil, message: "no [[rates]] in the file") }
        return pricing
    }

    /// The `[[rates]]` of a pricing file or the config file; nil when it has none.
    static func rates(in file: TOMLFields) throws(SettingsFileError) -> Pricing? {
        guard let tables = try file.arrayOfTables("rates"), !tables.isEmpty else { return nil }
        return Pricing(rates: try tables.map(rate))
    }

    /// One rate: `input` and `output` prices, an optional `from` and `project`.
    private static func rate(_ table: TOMLFields) throws(SettingsFileError) -> Rate {
        try table.allowOnly(["from", "project", "input", "output"], expected: "from, project, input, output")
        func price(_ key: String) throws(SettingsFileError) -> Double {
            guard let (value, entry) = try table.number(key) else {
                throw table.failure(line: table.table.line, "[[rates]] needs \(key), a price in USD per million tokens")
            }
            guard value.isFinite, value >= 0 else { throw table.failure(entry, "must be a price in USD per million tokens") }
            return value
        }
        var from: RateStart? = nil
        if let entry = table.table["from"] {
            from = switch entry.value {
            case .localDate(let date): RateStart(date)
            case .localDateTime(let date, let time): RateStart(date, time)
            case .offsetDateTime(let date, let time, let offset): RateStart(date, time, offsetMinutes: offset)
            case .string(let text): RateStart(text: text)
            default: nil
            }
            guard from != nil else { throw table.failure(entry, RateStart.expected) }
        }
        return Rate(from: from, project: try table.string("project"), input: try price("input"), output: try price("output"))
    }
}
