import Foundation
import LosslessJSON

/// Token prices in USD per million tokens, which may change over time and
/// differ per project. A run is priced by the rate of its project (else the
/// rate without a project) with the latest `from` not after the run.
public struct Pricing: Sendable, Equatable {
    public struct Rate: Sendable, Equatable {
        public var from: String?      // YYYY-MM-DD (UTC), nil: since always
        public var project: String?   // nil: any project without a rate of its own
        public var input: Double
        public var output: Double
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public let rates: [Rate]

    public init(rates: [Rate]) {
        self.rates = rates.sorted { ($0.from ?? "") > ($1.from ?? "") }  // latest first
    }

    public static func flat(input: Double, output: Double) -> Pricing {
        Pricing(rates: [Rate(from: nil, project: nil, input: input, output: output)])
    }

    /// The rates' start dates as epoch seconds (UTC midnights), in `rates` order.
    private var fromSeconds: [Int64] {
        rates.map { rate in
            guard let from = rate.from, let (y, m, d) = TimeWindow.dateOnly(from) else { return Int64.min }
            return Int64(Timestamp.daysFromCivil(year: y, month: m, day: d)) * 86_400
        }
    }

    /// A lookup for many runs: start dates read once.
    public func resolver() -> (String?, Int64) -> Rate? {
        let starts = fromSeconds
        let rates = self.rates
        return { project, seconds in
            if let project, let index = rates.indices.first(where: { rates[$0].project.sameBytes(as: project) && starts[$0] <= seconds }) {
                return rates[index]
            }
            return rates.indices.first { rates[$0].project == nil && starts[$0] <= seconds }.map { rates[$0] }
        }
    }

    public var hasProjectRates: Bool { rates.contains { $0.project != nil } }

    /// Reads a pricing file: JSON (`{"rates": [{...}]}` or a bare array) or TOML (`[[rates]]` tables).
    /// Each rate has `input` and `output` (USD per million tokens), optional `from` and `project`.
    public static func load(path: String) throws(Failure) -> Pricing {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read the pricing file \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let start = text.drop { $0.isWhitespace }
        if start.hasPrefix("{") || (start.hasPrefix("[") && !start.hasPrefix("[[")) { return try fromJSON(text, path: path) }
        return try fromTOML(text, path: path)
    }

    static func fromJSON(_ text: String, path: String) throws(Failure) -> Pricing {
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch {
            throw Failure(description: "\(path):\(error.line): \(error.message)")
        }
        guard let list = value.arrayValue ?? value["rates"]?.arrayValue else {
            throw Failure(description: "\(path): expected {\"rates\": [...]} or an array of rates")
        }
        var rates: [Rate] = []
        for (index, item) in list.enumerated() {
            guard let object = item.objectValue else { throw Failure(description: "\(path): rate \(index + 1) is not an object") }
            var fields: [String: PricingValue] = [:]  // our own names
            for (key, value) in object.members {
                switch value {
                case .string(let text): fields[key] = .text(text)
                case .number(let number): fields[key] = .number(number.doubleValue ?? .nan)
                case .null: continue
                default: throw Failure(description: "\(path): rate \(index + 1): \(key) must be a string or a number")
                }
            }
            rates.append(try rate(fields, where: { _ in "\(path): rate \(index + 1)" }))
        }
        return Pricing(rates: rates)
    }

    /// A pricing file in TOML: `[[rates]]` tables and nothing else.
    static func fromTOML(_ text: String, path: String) throws(Failure) -> Pricing {
        let document: TOMLSubset
        do { document = try TOMLSubset(text) } catch { throw Failure(description: "\(path):\(error.line): \(error.message)") }
        for table in document.tables where table.name != "rates" || !table.isArrayElement {
            if let entry = table.entries.first {
                throw Failure(description: "\(path):\(entry.line): expected [[rates]] before \(entry.key)")
            }
            if !table.name.isEmpty { throw Failure(description: "\(path):\(table.line): expected [[rates]], not [\(table.name)]") }
        }
        let pricing = try fromTOML(document, path: path)
        guard let pricing else { throw Failure(description: "\(path): no [[rates]] in the file") }
        return pricing
    }

    /// The `[[rates]]` of a TOML document (a pricing file or the config file); nil when it has none.
    static func fromTOML(_ document: TOMLSubset, path: String) throws(Failure) -> Pricing? {
        var rates: [Rate] = []
        for table in document.tables where table.name == "rates" && table.isArrayElement {
            var fields: [String: PricingValue] = [:]  // our own names
            var lines: [String: Int] = [:]  // our own names
            for entry in table.entries {
                lines[entry.key] = entry.line
                switch entry.value {
                case .text(let text), .date(let text): fields[entry.key] = .text(text)
                case .number(let number): fields[entry.key] = .number(number)
                default: throw Failure(description: "\(path):\(entry.line): cannot read the value of \(entry.key)")
                }
            }
            rates.append(try rate(fields, where: { key in "\(path):\(key.flatMap { lines[$0] } ?? table.line)" }))
        }
        return rates.isEmpty ? nil : Pricing(rates: rates)
    }

    enum PricingValue: Equatable { case text(String), number(Double) }

    /// A rate from its fields; `place` names the file and line of a key (nil: of the rate).
    private static func rate(_ fields: [String: PricingValue], where place: (String?) -> String) throws(Failure) -> Rate {  // our own names
        for key in fields.keys.sorted() where !["from", "project", "input", "output"].contains(key) {
            throw Failure(description: "\(place(key)): unknown key \(key) (expected from, project, input, output)")
        }
        func price(_ key: String) throws(Failure) -> Double {
            guard case .number(let value)? = fields[key], value.isFinite, value >= 0 else {
                throw Failure(description: "\(place(fields[key] == nil ? nil : key)): \(key) must be a price in USD per million tokens")
            }
            return value
        }
        var from: String? = nil
        if let value = fields["from"] {
            guard case .text(let text) = value, let (year, month, day) = TimeWindow.dateOnly(text) else {
                throw Failure(description: "\(place("from")): from must be a date YYYY-MM-DD")
            }
            from = String(format: "%04d-%02d-%02d", year, month, day)
        }
        var project: String? = nil
        if let value = fields["project"] {
            guard case .text(let text) = value else { throw Failure(description: "\(place("project")): project must be a string") }
            project = text
        }
        return Rate(from: from, project: project, input: try price("input"), output: try price("output"))
    }
}
