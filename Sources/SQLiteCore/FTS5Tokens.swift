import CSQLite
import Foundation

/// The tokens of some documents as an FTS5 tokenizer produced them, kept in
/// three flat arrays however many documents and tokens there are.
public struct FTS5Tokens: Sendable {
    /// Per token: flags, byte offset in `text`, length, start and end in its document.
    var fields: [Int32] = []
    /// The token texts, one after another.
    var text: [UInt8] = []
    /// Per document: its first token, its token count and its length in bytes.
    var documents: [(firstToken: Int32, count: Int32, byteLength: Int32)] = []

    public init() {}

    public var documentCount: Int { documents.count }

    /// Room for documents of `textBytes` bytes in all, at a guess of one token per six bytes.
    public mutating func reserveCapacity(textBytes: Int, documents count: Int) {
        fields.reserveCapacity(5 * (textBytes / 6 + count))
        text.reserveCapacity(textBytes)
        documents.reserveCapacity(count)
    }

    mutating func append(flags: Int32, token: UnsafeRawBufferPointer, start: Int32, end: Int32) {
        fields.append(flags)
        fields.append(Int32(text.count))
        fields.append(Int32(token.count))
        fields.append(start)
        fields.append(end)
        text.append(contentsOf: token)
    }
}

/// An FTS5 tokenizer of a connection (a built-in such as `porter unicode61`),
/// used directly: what it makes of a text, without an FTS5 table.
public final class FTS5Tokenizer {
    let module: fts5_tokenizer
    let instance: OpaquePointer
    /// The connection that owns the module; it must outlive the instance.
    private let database: Database

    /// `spec` as in `tokenize = '…'`: a name and its arguments, separated by spaces.
    public init(database: Database, spec: String) throws {
        self.database = database
        let words = spec.split(separator: " ").map(String.init)
        guard let name = words.first else { throw SQLiteError(.misuse, message: "empty tokenizer spec") }
        let api = try database.fts5API()
        var userData: UnsafeMutableRawPointer?
        var module = fts5_tokenizer()
        guard api.pointee.xFindTokenizer(api, name, &userData, &module) == SQLITE_OK, let create = module.xCreate else {
            throw SQLiteError(.error, message: "no FTS5 tokenizer named \(name)")
        }
        self.module = module
        var created: OpaquePointer?
        let code = withCStrings(Array(words.dropFirst())) { arguments in
            create(userData, arguments.baseAddress, Int32(arguments.count), &created)
        }
        guard code == SQLITE_OK, let created else {
            throw SQLiteError(ResultCode(rawValue: code), message: "cannot create FTS5 tokenizer \(spec)")
        }
        instance = created
    }

    deinit { module.xDelete?(instance) }

    /// Appends the tokens of `text` as a new document of `tokens`.
    public func tokenize(_ text: String, into tokens: inout FTS5Tokens) throws {
        var text = text
        let first = Int32(tokens.fields.count / 5)
        let code = withUnsafeMutablePointer(to: &tokens) { output in
            text.withUTF8 { bytes in
                module.xTokenize!(instance, output, FTS5_TOKENIZE_DOCUMENT, bytes.baseAddress.map(UnsafeRawPointer.init)?
                    .assumingMemoryBound(to: CChar.self), Int32(bytes.count)) { context, flags, token, length, start, end in
                    let output = context!.assumingMemoryBound(to: FTS5Tokens.self)
                    output.pointee.append(flags: flags, token: UnsafeRawBufferPointer(start: token, count: Int(length)),
                                          start: start, end: end)
                    return SQLITE_OK
                }
            }
        }
        guard code == SQLITE_OK else { throw SQLiteError(ResultCode(rawValue: code), message: "FTS5 tokenizer failed") }
        tokens.documents.append((first, Int32(tokens.fields.count / 5) - first, Int32(text.utf8.count)))
    }
}

func withCStrings<T>(_ strings: [String], _ body: (UnsafeMutableBufferPointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeMutableBufferPointer { body($0) }
}

extension Database {
    /// The FTS5 extension's API object of this connection.
    func fts5API() throws -> UnsafeMutablePointer<fts5_api> {
        var api: UnsafeMutablePointer<fts5_api>?
        let statement = try prepare("SELECT fts5(?1)")
        let pointerType: StaticString = "fts5_api_ptr"  // compared by SQLite while stepping: must not move
        try withUnsafeMutablePointer(to: &api) { pointer in
            _ = sqlite3_bind_pointer(statement.handle, 1, pointer,
                                     UnsafeRawPointer(pointerType.utf8Start).assumingMemoryBound(to: CChar.self), nil)
            try statement.step()
        }
        guard let api else { throw SQLiteError(.error, message: "FTS5 is not available") }
        return api
    }
}

/// Lets a writer hand FTS5 the tokens of a document made earlier, on another
/// thread, by the same built-in tokenizer, instead of tokenizing while it
/// holds the write lock. Registered on a connection under the name of that
/// tokenizer, it stands in for it: a document tokenization finds `next` set
/// (and of the same byte length) and replays it; every other use (queries,
/// deletions, snippets, or no `next`) goes to the original tokenizer.
public final class FTS5TokenReplay {
    /// The tokens for the next document the connection indexes; taken by it.
    public var next: (tokens: FTS5Tokens, document: Int)?
    /// How many documents took their tokens from `next`.
    public fileprivate(set) var replayedDocuments = 0
    fileprivate let original: fts5_tokenizer
    fileprivate let originalUserData: UnsafeMutableRawPointer?

    /// Must be registered before the connection first opens a table that uses `name`.
    public init(database: Database, name: String) throws {
        let api = try database.fts5API()
        var userData: UnsafeMutableRawPointer?
        var module = fts5_tokenizer()
        guard api.pointee.xFindTokenizer(api, name, &userData, &module) == SQLITE_OK, module.xCreate != nil,
              module.xDelete != nil, module.xTokenize != nil else {
            throw SQLiteError(.error, message: "no FTS5 tokenizer named \(name)")
        }
        original = module
        originalUserData = userData
        var replacement = fts5_tokenizer(xCreate: replayCreate, xDelete: replayDelete, xTokenize: replayTokenize)
        let code = api.pointee.xCreateTokenizer(api, name, Unmanaged.passRetained(self).toOpaque(), &replacement) { context in
            Unmanaged<FTS5TokenReplay>.fromOpaque(context!).release()
        }
        guard code == SQLITE_OK else { throw SQLiteError(ResultCode(rawValue: code), message: "cannot register FTS5 tokenizer \(name)") }
    }
}

/// One tokenizer instance: the original's, and the replay it consults.
private final class ReplayInstance {
    let replay: FTS5TokenReplay
    let original: OpaquePointer
    init(replay: FTS5TokenReplay, original: OpaquePointer) {
        self.replay = replay
        self.original = original
    }
}

private func replayCreate(_ userData: UnsafeMutableRawPointer?, _ arguments: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                          _ count: Int32, _ output: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    let replay = Unmanaged<FTS5TokenReplay>.fromOpaque(userData!).takeUnretainedValue()
    var original: OpaquePointer?
    let code = replay.original.xCreate!(replay.originalUserData, arguments, count, &original)
    guard code == SQLITE_OK, let original else { return code == SQLITE_OK ? SQLITE_ERROR : code }
    output?.pointee = OpaquePointer(Unmanaged.passRetained(ReplayInstance(replay: replay, original: original)).toOpaque())
    return SQLITE_OK
}

private func replayDelete(_ tokenizer: OpaquePointer?) {
    let instance = Unmanaged<ReplayInstance>.fromOpaque(UnsafeRawPointer(tokenizer!))
    let value = instance.takeUnretainedValue()
    value.replay.original.xDelete!(value.original)
    instance.release()
}

private func replayTokenize(
    _ tokenizer: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ flags: Int32,
    _ text: UnsafePointer<CChar>?, _ length: Int32,
    _ emit: (@convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, Int32, Int32, Int32) -> Int32)?
) -> Int32 {
    let instance = Unmanaged<ReplayInstance>.fromOpaque(UnsafeRawPointer(tokenizer!)).takeUnretainedValue()
    let replay = instance.replay
    // `next` is for the first document tokenized after it was set, whatever happens.
    let pending = flags == FTS5_TOKENIZE_DOCUMENT ? replay.next : nil
    if pending != nil { replay.next = nil }
    guard let (tokens, index) = pending, tokens.documents[index].byteLength == length, let emit else {
        return replay.original.xTokenize!(instance.original, context, flags, text, length, emit)
    }
    let document = tokens.documents[index]
    replay.replayedDocuments += 1
    return tokens.fields.withUnsafeBufferPointer { fields in
        tokens.text.withUnsafeBufferPointer { tokenText in
            let base = UnsafeRawPointer(tokenText.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            for token in Int(document.firstToken)..<Int(document.firstToken + document.count) {
                let field = 5 * token
                let code = emit(context, fields[field], (base + Int(fields[field + 1])).assumingMemoryBound(to: CChar.self),
                                fields[field + 2], fields[field + 3], fields[field + 4])
                if code != SQLITE_OK { return code }
            }
            return SQLITE_OK
        }
    }
}
