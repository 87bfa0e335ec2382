/// A value as SQLite stores it, for dynamic queries whose column types are
/// not known in advance (ad-hoc SQL, exports).
public enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}
