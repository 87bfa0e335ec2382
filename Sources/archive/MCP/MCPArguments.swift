import LosslessJSON

/// A tool call's arguments, read as its schema says: a key the schema does
/// not name, or a value of another type or out of range, is a protocol
/// error (-32602) naming the tool and the argument.
struct MCPArguments {
    let tool: String
    let values: JSONObject
    private let known: [String]

    init(tool: String, _ value: JSONValue?, known: [String]) throws(MCPError) {
        self.tool = tool
        self.known = known
        switch value {
        case nil, .null?: values = JSONObject()
        case .object(let object)?: values = object
        default: throw .invalidParams("\(tool): arguments must be an object")
        }
        for key in values.keys where !known.contains(where: { $0.utf8.elementsEqual(key.utf8) }) {
            throw .invalidParams("\(tool): unknown argument \(key.debugDescription) (expected \(known.joined(separator: ", ")))")
        }
    }

    private func value(_ key: String) -> JSONValue? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) throws(MCPError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.stringValue else { throw .invalidParams("\(tool): \(key) must be a string") }
        return text
    }

    func requiredString(_ key: String) throws(MCPError) -> String {
        guard let text = try string(key), !text.isEmpty else { throw .invalidParams("\(tool): \(key) is required (a non-empty string)") }
        return text
    }

    func integer(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(MCPError) -> Int {
        guard let value = value(key) else { return fallback }
        guard let number = value.int64Value, let int = Int(exactly: number), range.contains(int) else {
            throw .invalidParams("\(tool): \(key) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return int
    }

    func number(_ key: String) throws(MCPError) -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.doubleValue, number.isFinite, number >= 0 else {
            throw .invalidParams("\(tool): \(key) must be a number, 0 or more")
        }
        return number
    }

    func bool(_ key: String) throws(MCPError) -> Bool {
        guard let value = value(key) else { return false }
        guard let flag = value.boolValue else { throw .invalidParams("\(tool): \(key) must be true or false") }
        return flag
    }

    /// A string or an array of strings (`"p1"` or `["p1", "p2"]`).
    func strings(_ key: String) throws(MCPError) -> [String] {
        guard let value = value(key) else { return [] }
        if let text = value.stringValue { return [text] }
        guard let items = value.arrayValue else { throw .invalidParams("\(tool): \(key) must be a string or an array of strings") }
        var texts: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw .invalidParams("\(tool): \(key) must be a string or an array of strings") }
            texts.append(text)
        }
        return texts
    }

    func choice(_ key: String, from choices: [String], default fallback: String) throws(MCPError) -> String {
        guard let text = try string(key) else { return fallback }
        guard choices.contains(text) else { throw .invalidParams("\(tool): \(key) must be one of \(choices.joined(separator: ", "))") }
        return text
    }
}
