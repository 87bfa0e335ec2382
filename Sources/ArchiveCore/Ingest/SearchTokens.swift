import SQLiteCore

/// The search index's tokenizer on a connection of its own (in memory): for
/// a thread that tokenizes ahead of the writer.
public final class SearchTokenizer {
    /// The tokenizer of `search_index` (Migrations/0002): snippets and tokens
    /// made ahead of the writer must use the same.
    public static let spec = "porter unicode61 remove_diacritics 2"

    let tokenizer: FTS5Tokenizer

    public init() throws {
        tokenizer = try FTS5Tokenizer(database: Database(path: ":memory:"), spec: Self.spec)
    }
}

/// The tokens of a session's search texts, one document per indexed event.
public struct SearchTokens: Sendable {
    let tokens: FTS5Tokens
    public var documentCount: Int { tokens.documentCount }
}

extension NormalizedSession {
    /// This session with the tokens of its search texts made now, by `tokenizer`
    /// (the search index's own, on another connection): the writer then hands
    /// them to the index instead of tokenizing under its lock. Unchanged if
    /// tokenizing fails; the writer's connection tokenizes instead.
    public func withSearchTokens(from tokenizer: SearchTokenizer) -> NormalizedSession {
        var tokens = FTS5Tokens()
        var bytes = 0, count = 0
        for event in events {
            if case .indexed(let text?) = event.search { bytes += text.utf8.count; count += 1 }
        }
        tokens.reserveCapacity(textBytes: bytes, documents: count)
        do {
            for event in events {
                if case .indexed(let text?) = event.search { try tokenizer.tokenizer.tokenize(text, into: &tokens) }
            }
        } catch {
            return self
        }
        var session = self
        session.searchTokens = SearchTokens(tokens: tokens)
        return session
    }

    /// The index in `searchTokens` of the first document at or after event `seq`.
    func searchDocumentIndex(before seq: Int) -> Int {
        events.prefix(seq).reduce(0) { count, event in
            if case .indexed(_?) = event.search { return count + 1 }
            return count
        }
    }
}
