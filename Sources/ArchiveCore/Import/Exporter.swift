/// `archive export`: JSONL, one session a line exactly as the retrieve endpoint
/// returned it (same keys and values).
public struct Exporter {
    public var project: String?
    public var window: TimeWindow = .unbounded
    public var sessionIDs: [String] = []

    public init() {}

    /// Calls `write` once per session line (without the newline); returns how many.
    @discardableResult
    public func run(reader: ArchiveReader, write: (String) throws -> Void) throws -> Int {
        let ids = sessionIDs.isEmpty ? try reader.sessionIDs(project: project, window: window) : sessionIDs
        var count = 0
        for id in ids {
            guard let json = try reader.sessionJSON(sessionID: id) else { throw ArchiveError.unknownSession(id) }
            try write(json)
            count += 1
        }
        return count
    }
}
