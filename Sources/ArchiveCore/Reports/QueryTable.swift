/// A query's answer as rows of typed cells, for the CLI to render as a table,
/// JSON or CSV. Column names are the JSON keys and CSV headers.
public struct QueryTable: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case text, integer, number, money, time }
        public let name: String
        public let title: String
        public let kind: Kind
        /// Columns a narrow terminal may leave out.
        public let optional: Bool
        /// Never shortened (session ids, which people copy): other columns give way first.
        public let keepsWhole: Bool
        /// In JSON and CSV, not in a table for people (a session's API id and
        /// source, which the table shows as one `SOURCE:ID`).
        public let forMachines: Bool

        public init(_ name: String, title: String? = nil, kind: Kind = .text, optional: Bool = false, keepsWhole: Bool? = nil,
                    forMachines: Bool = false) {
            self.name = name
            self.title = title ?? name.replacingOccurrences(of: "_", with: " ")
            self.kind = kind
            self.optional = optional
            self.keepsWhole = keepsWhole ?? (name == "session")
            self.forMachines = forMachines
        }

        /// A session as people type it (`session`: the id alone in the default
        /// source, `SOURCE:ID` in the others), and as the API and the
        /// `sessions` table know it: `session_id` and `source`, members of their own.
        public static let sessionIdentity: [Column] = [
            .init("session", title: "session"), .init("session_id", forMachines: true), .init("source", forMachines: true),
        ]

        public var alignsRight: Bool { kind != .text && kind != .time }
    }

    public enum Cell: Sendable, Equatable {
        case null
        case integer(Int64)
        case number(Double)
        case text(String)
        case bool(Bool)
    }

    public var columns: [Column]
    public var rows: [[Cell]]
    public var totals: [Cell]?
    /// A line to show under the table (not part of JSON or CSV rows).
    public var note: String?
    /// What the reader must know about the answer (a missing price, say): for standard error.
    public var warnings: [String] = []

    public init(columns: [Column], rows: [[Cell]] = [], totals: [Cell]? = nil, note: String? = nil) {
        self.columns = columns
        self.rows = rows
        self.totals = totals
        self.note = note
    }
}

extension QueryTable.Cell {
    public init(_ value: Int64?) { self = value.map(QueryTable.Cell.integer) ?? .null }
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: Double?) { self = value.map(QueryTable.Cell.number) ?? .null }
    public init(_ value: String?) { self = value.map(QueryTable.Cell.text) ?? .null }
}
