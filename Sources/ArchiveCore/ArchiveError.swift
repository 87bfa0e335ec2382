/// Failures a user can act on, each with one line that names what and where.
public enum ArchiveError: Error, CustomStringConvertible, Equatable {
    case unusableArchive(path: String, reason: String)
    case emptyArchive(path: String)
    case unknownSession(String)

    public var description: String {
        switch self {
        case let .unusableArchive(path, reason): return "cannot use archive \(path): \(reason)"
        case let .emptyArchive(path): return "the archive \(path) holds no sessions yet: run `archive sync` or `archive import` first"
        case let .unknownSession(id): return "no session \(id) in the archive"
        }
    }
}
