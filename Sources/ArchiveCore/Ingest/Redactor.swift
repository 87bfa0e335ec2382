import Foundation
import LosslessJSON

/// `[[redact]]` rules: text matching a rule's pattern becomes
/// `[redacted:NAME]` in every string a session holds (events' content, tool
/// arguments and results, titles, metadata), applied before the session is
/// normalised, so the text never reaches the archive or its WAL. The ids and
/// times that identify a session and its events are left alone: a rule that
/// matched one would make the session another.
public struct Redactor: Sendable {
    public struct Rule: Sendable {
        public let name: String
        public let pattern: String
        let expression: NSRegularExpression
        let template: String

        /// Nil when `pattern` is not a regular expression (ICU syntax, as
        /// NSRegularExpression reads it), or matches the empty string (it would
        /// write the mark between every two characters).
        public init?(name: String, pattern: String) {
            guard let expression = try? NSRegularExpression(pattern: pattern),
                  expression.firstMatch(in: "", range: NSRange(location: 0, length: 0)) == nil else { return nil }
            self.name = name
            self.pattern = pattern
            self.expression = expression
            template = NSRegularExpression.escapedTemplate(for: "[redacted:\(name)]")
        }
    }

    public let rules: [Rule]
    public init(rules: [Rule] = []) { self.rules = rules }

    public var isEmpty: Bool { rules.isEmpty }

    /// Members whose values name, time or classify a session or an event:
    /// never redacted, and kept when content is pruned.
    static let structuralKeys: Set<ExactText> = [
        "session_id", "id", "type", "call_id", "last_updated_at", "created_at", "updated_at", "project_id",
        "organization_id", "index_ids", "shared_access",
        "archive_content_pruned_at",  // the time a pruned session's export carries
    ]

    /// The value with every string leaf outside structural members made null:
    /// what pruning keeps of a session's metadata.
    public static func withoutText(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string: return .null
        case .array(let items): return .array(items.map(withoutText))
        case .object(var object):
            for index in object.members.indices where !structuralKeys.contains(ExactText(object.members[index].key)) {
                object.members[index].value = withoutText(object.members[index].value)
            }
            return .object(object)
        case .null, .bool, .number: return value
        }
    }

    /// The text with every rule applied in order; how many matches were replaced.
    public func redact(_ text: String) -> (text: String, matches: Int) {
        var text = text
        var matches = 0
        for rule in rules {
            let range = NSRange(text.startIndex..., in: text)
            let found = rule.expression.numberOfMatches(in: text, range: range)
            guard found > 0 else { continue }
            matches += found
            text = rule.expression.stringByReplacingMatches(in: text, range: range, withTemplate: rule.template)
        }
        return (text, matches)
    }

    /// The value with every string leaf redacted, except under identifying members.
    public func redact(_ value: JSONValue) -> (value: JSONValue, matches: Int) {
        guard !rules.isEmpty else { return (value, 0) }
        var matches = 0
        func visit(_ value: JSONValue) -> JSONValue {
            switch value {
            case .string(let text):
                let result = redact(text)
                guard result.matches > 0 else { return value }
                matches += result.matches
                return .string(result.text)
            case .array(let items):
                return .array(items.map(visit))
            case .object(var object):
                for index in object.members.indices where !Self.structuralKeys.contains(ExactText(object.members[index].key)) {
                    object.members[index].value = visit(object.members[index].value)
                }
                return .object(object)
            case .null, .bool, .number:
                return value
            }
        }
        let redacted = visit(value)
        return (redacted, matches)
    }
}
