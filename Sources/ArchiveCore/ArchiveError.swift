/// Failures a user can act on, each with one line that names what and where.
public enum ArchiveError: Error, CustomStringConvertible, Equatable, Sendable {
    case unusableArchive(path: String, reason: String)
    case noArchive(path: String)
    case emptyArchive(path: String)
    case unknownSession(String)
    /// The environment failed a write (disk full, I/O error, a corrupt or
    /// read-only file): nothing more can be written, whatever the data.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unusableArchive(path, reason): return "cannot use archive \(path): \(reason)"
        case let .noArchive(path): return "no archive at \(path): run `archive sync` or `archive import` first"
        case let .emptyArchive(path): return "the archive \(path) holds no sessions yet: run `archive sync` or `archive import` first"
        case let .unknownSession(id): return "no session \(id) in the archive"
        case let .cannotWrite(path, reason): return "cannot write the archive \(path): \(reason)"
        }
    }
}
