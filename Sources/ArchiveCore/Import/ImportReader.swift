import Foundation
import LlamaCloudClient
import LosslessJSON
import SQLiteCore

/// The reading half of an import: files to parsed, normalised sessions.
final class ImportReader: Sendable {
    enum Item: Sendable {
        case file
        case session(NormalizedSession, file: String, line: Int)
        /// A record whose bytes the archive already holds for a live session.
        case unchanged
        case failed(String)
        case fatal(String)
    }

    let files: [String]
    let knownHashes: [SourceHash: String]
    let hashKey: SourceHash.Key
    let redactor: Redactor
    private let consumed = ByteCount()
    /// Bytes of the input read so far (all files).
    var bytesRead: Int { consumed.value }
    let queue: BoundedQueue<Item>

    init(files: [String], knownHashes: [SourceHash: String], hashKey: SourceHash.Key, redactor: Redactor,
         queue: BoundedQueue<Item>) {
        self.files = files
        self.redactor = redactor
        self.knownHashes = knownHashes
        self.hashKey = hashKey
        self.queue = queue
    }

    func run() {
        defer { queue.finish() }
        // The search index's tokenizer on a connection of this thread's own: tokens made here are not made by the writer.
        let tokenizer = try? SearchTokenizer()
        for path in files {
            guard queue.push(.file) else { return }
            let name = path == "-" ? "<stdin>" : path
            guard let reader = LineReader(path: path) else {
                _ = queue.push(.fatal("\(name): cannot be read"))
                return
            }
            reader.onRead = { [consumed] in consumed.add($0) }
            if !read(reader, name: name, tokenizer: tokenizer) { return }
        }
    }

    private static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private static func parses(_ line: [UInt8]) -> Bool { (try? JSONParser.parse(line)) != nil }

    /// The file's shape is decided from the file, not from whether its first
    /// line is good: `[` first is an array (streamed element by element);
    /// otherwise JSONL when the first or the second line is a whole JSON
    /// value (a bad first line is one bad record), else one document, which
    /// if it does not parse is read as JSONL after all, each bad line
    /// reported. A UTF-8 BOM is skipped. False when the writer has stopped listening.
    private func read(_ reader: LineReader, name: String, tokenizer: SearchTokenizer?) -> Bool {
        // An array whose first line fills the first megabyte (one line, say)
        // is streamed from the start, never read as one line.
        let ahead = reader.lookahead(1 << 20)
        if ahead.starts(with: [0xEF, 0xBB, 0xBF]) { reader.skip(3) }
        let opening = ahead.drop { [0xEF, 0xBB, 0xBF, 0x20, 0x09, 0x0D].contains($0) }
        if opening.first == UInt8(ascii: "["), !opening.contains(0x0A) {
            return readArray(first: nil, reader: reader, name: name, tokenizer: tokenizer)
        }
        var lines = LineSource(reader)
        guard var first = lines.next() else { return reportReadError(reader, name: name) }
        while Self.isBlank(first.line) {
            guard let next = lines.next() else { return reportReadError(reader, name: name) }
            first = next
        }
        let startsArray = first.line.first(where: { ![0x20, 0x09, 0x0D].contains($0) }) == UInt8(ascii: "[")
        if startsArray && (Self.parses(first.line) || first.line.filter({ ![0x20, 0x09, 0x0D].contains($0) }) == [UInt8(ascii: "[")]) {
            return readArray(first: first, reader: reader, name: name, tokenizer: tokenizer)
        }
        var second = lines.next()
        while let line = second, Self.isBlank(line.line) { second = lines.next() }
        if startsArray && !(second.map { $0.line.first == UInt8(ascii: "{") && Self.parses($0.line) } ?? false) {
            return readArray(first: first, then: second, reader: reader, name: name, tokenizer: tokenizer)
        }
        if Self.parses(first.line) || second.map({ Self.parses($0.line) }) == true {
            lines.pushBack(contentsOf: [first] + (second.map { [$0] } ?? []))
            return readLines(&lines, reader: reader, name: name, tokenizer: tokenizer)
        }
        // One document over several lines, or JSONL whose first two lines are both bad.
        var all = [first] + (second.map { [$0] } ?? [])
        while let next = lines.next() { all.append(next) }
        guard reportReadError(reader, name: name) else { return false }
        var whole = Array(repeating: UInt8(ascii: "\n"), count: first.number - 1)
        for line in all { whole += line.line; whole.append(UInt8(ascii: "\n")) }
        if let value = try? JSONParser.parse(whole) {
            return queue.push(item(value, file: name, line: first.number, hash: nil, tokenizer: tokenizer))
        }
        lines.pushBack(contentsOf: all)
        return readLines(&lines, reader: reader, name: name, tokenizer: tokenizer)
    }

    private func readLines(_ lines: inout LineSource, reader: LineReader, name: String, tokenizer: SearchTokenizer?) -> Bool {
        while let next = lines.next() {
            if Self.isBlank(next.line) { continue }
            guard queue.push(item(bytes: next.line, file: name, line: next.number, tokenizer: tokenizer)) else { return false }
        }
        return reportReadError(reader, name: name)
    }

    /// A JSON array, one element at a time, however it is laid out on lines
    /// (all on one, too): after the lines already read, the file is fed to
    /// the splitter in chunks, so memory stays flat.
    private func readArray(first: (line: [UInt8], number: Int)?, then second: (line: [UInt8], number: Int)? = nil,
                           reader: LineReader, name: String, tokenizer: SearchTokenizer?) -> Bool {
        var splitter = JSONArraySplitter(firstLine: first?.number ?? 1)
        var failure: String?
        var pieces = first.map { [$0.line + [0x0A]] } ?? []
        if let first, let second {
            pieces.append(Array(repeating: 0x0A, count: second.number - first.number - 1) + second.line + [0x0A])
        }
        while failure == nil, let bytes = pieces.isEmpty ? reader.nextChunk() : pieces.removeFirst() {
            let listening = splitter.feed(bytes) { element, line in
                queue.push(item(bytes: element, file: name, line: line, tokenizer: tokenizer))
            } onError: { failure = "\(name):\($0): \($1)" }
            guard listening else { return false }
        }
        if let failure { return queue.push(.failed(failure)) }
        guard reportReadError(reader, name: name) else { return false }
        if let unfinished = splitter.finish() { return queue.push(.failed("\(name):\(unfinished.line): \(unfinished.reason)")) }
        return true
    }

    /// A failed read is reported, never taken for the end of the file.
    private func reportReadError(_ reader: LineReader, name: String) -> Bool {
        guard let error = reader.readError else { return true }
        _ = queue.push(.fatal("\(name): read error after line \(reader.linesRead): \(String(cString: strerror(error)))"))
        return false
    }

    private func item(bytes: [UInt8], file: String, line: Int, tokenizer: SearchTokenizer?) -> Item {
        let hash = PhaseProfile.measure(.hash) { SourceHash.of(bytes, key: hashKey) }
        // Guard against a hash collision: the bytes must name that session.
        if let id = knownHashes[hash], bytes.firstRange(of: Array(JSONValue.string(id).serialized.utf8)) != nil {
            return .unchanged
        }
        let started = PhaseProfile.begin()
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            PhaseProfile.end(.parse, started)
            return .failed("\(file):\(line): \(error.message)")
        }
        PhaseProfile.end(.parse, started)
        return item(value, file: file, line: line, hash: hash, tokenizer: tokenizer)
    }

    private func item(_ value: JSONValue, file: String, line: Int, hash: SourceHash?, tokenizer: SearchTokenizer?) -> Item {
        do {
            let started = PhaseProfile.begin()
            let session = try Normalizer.normalize(redactor.redact(value).value, sourceHash: hash)
            PhaseProfile.end(.normalise, started)
            let tokenized = PhaseProfile.measure(.searchTokens) { tokenizer.map(session.withSearchTokens) ?? session }
            return .session(tokenized, file: file, line: line)
        } catch {
            return .failed("\(file):\(line): \(error.description)")
        }
    }
}
