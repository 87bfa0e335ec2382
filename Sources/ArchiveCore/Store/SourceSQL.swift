/// SQL about sources that the store, the reports and the exports share.
enum SourceSQL {
    /// Whether the source key in `column` is one of the names in the JSON
    /// array bound to `parameter` (NULL: every source). Names compare by their bytes.
    static func allows(_ column: String, parameter: String) -> String {
        "(\(parameter) IS NULL OR \(column) IN (SELECT source_key FROM sources WHERE name IN (SELECT value FROM json_each(\(parameter)))))"
    }

    /// The name of the source whose key is in `column`, which must name its
    /// table (`s.source_key`): a bare `source_key` would be the subquery's own.
    static func name(_ column: String) -> String {
        "(SELECT name FROM sources WHERE source_key = \(column))"
    }

    /// A session's id as a person types it: the id alone in the default
    /// source, `SOURCE:ID` in the others (two sources may use the same id).
    /// The three columns of `QueryTable.Column.sessionIdentity`: the id as typed, the API's id, the source's name.
    static func identity(_ table: String) -> String {
        "\(qualifiedID(table)), \(table).session_id, \(name("\(table).source_key"))"
    }

    static func qualifiedID(_ table: String) -> String {
        "CASE WHEN \(table).source_key = 1 THEN \(table).session_id ELSE \(name("\(table).source_key")) || ':' || \(table).session_id END"
    }
}
