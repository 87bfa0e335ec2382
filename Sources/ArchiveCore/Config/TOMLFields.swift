import TOML

/// One table of a config or pricing file, read with the archive's own rules:
/// only known keys, each of the type it needs, and every fault one line
/// naming the file, the line and the key.
struct TOMLFields {
    let table: TOMLTable
    let path: String
    /// How messages name the table: nil for the top of the file, else `[sync]` or `[[rates]]`.
    let name: String?

    /// A file's tables, or its first fault as `path:line: message`.
    static func read(_ bytes: [UInt8], path: String) throws(SettingsFileError) -> TOMLFields {
        do {
            return TOMLFields(table: try TOMLReader.parse(fileContents: bytes), path: path, name: nil)
        } catch {
            throw .fault(path: path, line: error.line, place: nil, message: error.message)
        }
    }

    /// A fault at a line of the file; at line 0 (a table read from JSON,
    /// which has no lines) the table's name says where instead.
    func failure(line: Int, _ message: String) -> SettingsFileError {
        .fault(path: path, line: line > 0 ? line : nil, place: line > 0 ? nil : name, message: message)
    }

    func failure(_ entry: TOMLTable.Entry, _ message: String) -> SettingsFileError {
        failure(line: entry.line, "\(TOMLReader.display([entry.key])) \(message)")
    }

    /// An API key is never kept in a config file (it would be one more copy
    /// on disk, and in every backup of the home folder): a key whose name says
    /// it holds a secret is refused without its value being read or shown.
    func refuseSecrets(except allowed: [String] = []) throws(SettingsFileError) {
        for entry in table.entries where !allowed.contains(where: { $0.sameBytes(as: entry.key) }) {
            let name = entry.key.lowercased()
            guard ["key", "token", "secret", "password"].contains(where: { name.contains($0) }) else { continue }
            throw .secret(path: path, line: entry.line, key: TOMLReader.display([entry.key]) + (self.name.map { " in \($0)" } ?? ""))
        }
    }

    /// Refuses the first key not in `known`, listing what is expected.
    func allowOnly(_ known: [String], expected: String) throws(SettingsFileError) {
        for entry in table.entries where !known.contains(where: { $0.sameBytes(as: entry.key) }) {
            throw failure(line: entry.line, "unknown key \(TOMLReader.display([entry.key]))\(entry.line > 0 ? name.map { " in \($0)" } ?? "" : "") (expected \(expected))")
        }
    }

    func nonEmptyString(_ key: String) throws(SettingsFileError) -> String? {
        guard let entry = table[key] else { return nil }
        guard case .string(let text) = entry.value, !text.isEmpty else { throw failure(entry, "must be a non-empty string") }
        return text
    }

    func string(_ key: String) throws(SettingsFileError) -> String? {
        guard let entry = table[key] else { return nil }
        guard case .string(let text) = entry.value else { throw failure(entry, "must be a string, not \(entry.value.typeName)") }
        return text
    }

    func boolean(_ key: String) throws(SettingsFileError) -> Bool? {
        guard let entry = table[key] else { return nil }
        guard case .boolean(let flag) = entry.value else { throw failure(entry, "must be true or false, not \(entry.value.typeName)") }
        return flag
    }

    /// An integer or a float, as a Double.
    func number(_ key: String) throws(SettingsFileError) -> (value: Double, entry: TOMLTable.Entry)? {
        guard let entry = table[key] else { return nil }
        switch entry.value {
        case .integer(let number): return (Double(number), entry)
        case .float(let number): return (number, entry)
        default: throw failure(entry, "must be a number, not \(entry.value.typeName)")
        }
    }

    /// An array of integers and floats, as Doubles.
    func numbers(_ key: String) throws(SettingsFileError) -> (values: [Double], entry: TOMLTable.Entry)? {
        guard let entry = table[key] else { return nil }
        guard case .array(let items) = entry.value else { throw failure(entry, "must be an array of numbers, not \(entry.value.typeName)") }
        var values: [Double] = []
        for item in items {
            switch item {
            case .integer(let number): values.append(Double(number))
            case .float(let number): values.append(number)
            default: throw failure(entry, "must be an array of numbers, not hold \(item.typeName)")
            }
        }
        return (values, entry)
    }

    func nonEmptyStrings(_ key: String, meaning: String) throws(SettingsFileError) -> [String]? {
        guard let entry = table[key] else { return nil }
        guard case .array(let items) = entry.value else { throw failure(entry, "must be an array of \(meaning)") }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item, !text.isEmpty else { throw failure(entry, "must be an array of \(meaning)") }
            strings.append(text)
        }
        return strings
    }

    /// `[name]`, or `name.key = …` dotted keys, or `name = { … }`.
    func subtable(_ key: String) throws(SettingsFileError) -> TOMLFields? {
        guard let entry = table[key] else { return nil }
        guard case .table(let subtable) = entry.value else { throw failure(entry, "must be a table ([\(key)]), not \(entry.value.typeName)") }
        return TOMLFields(table: subtable, path: path, name: "[\(key)]")
    }

    /// `[[name]]` tables, or `name = [{ … }, …]`.
    func arrayOfTables(_ key: String) throws(SettingsFileError) -> [TOMLFields]? {
        guard let entry = table[key] else { return nil }
        guard case .array(let items) = entry.value else { throw failure(entry, "must be an array of tables ([[\(key)]]), not \(entry.value.typeName)") }
        var tables: [TOMLFields] = []
        for item in items {
            guard case .table(let element) = item else { throw failure(entry, "must be an array of tables ([[\(key)]]), not hold \(item.typeName)") }
            tables.append(TOMLFields(table: element, path: path, name: "[[\(key)]]"))
        }
        return tables
    }
}
