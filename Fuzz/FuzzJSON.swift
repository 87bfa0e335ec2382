// libFuzzer target for the JSON parser, compiled together with
// Sources/LosslessJSON by scripts/fuzz: it must never crash, what it parses
// must write back and parse again to the same text (parse → write → parse is
// the identity on ordered JSON with exact number literals), and it must agree
// with Foundation's parser on what is JSON at all.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parsed = try? JSONParser.parse(bytes)
    if let verdict = FoundationVerdict(bytes), verdict.accepts != (parsed != nil) {
        fatalError("Foundation \(verdict.accepts ? "accepts" : "refuses") what this parser \(parsed != nil ? "accepts" : "refuses"): \(String(decoding: bytes, as: UTF8.self).debugDescription)")
    }
    guard let value = parsed else { return 0 }
    let written = value.serialized
    guard let again = try? JSONParser.parse(written) else {
        fatalError("the writer wrote text the parser refuses: \(written.debugDescription)")
    }
    guard again.serialized == written else {
        fatalError("parse → write → parse is not the identity: \(written.debugDescription)")
    }
    // The streaming parse of an object's array member gives the same elements.
    if case .object = value {
        var streamed: [String] = []
        if let parsed = try? JSONParser.parseObject(bytes, streamingArray: "events", element: { streamed.append($0.serialized) }),
           let range = parsed.arrayRange {
            let again = JSONArrayElements(bytes: bytes, range: range).map(\.serialized)
            guard again == streamed else { fatalError("a streamed array read back differs") }
        }
    }
    return 0
}

/// Foundation's word on whether `bytes` are JSON, where the two parsers
/// mean to agree; nil where they differ by design: duplicate keys (kept
/// here, merged there), numbers no Double holds (kept exactly here), nesting
/// past Foundation's 512 levels, a leading byte-order mark, and a trailing
/// comma in an array or object (`[1,]`), which Foundation on Linux takes and
/// RFC 8259 does not, and any input holding a NUL byte, which Foundation on
/// Linux sometimes reads as the end of the text (`1\0x` and `"\0"\0` pass).
struct FoundationVerdict {
    let accepts: Bool

    init?(_ bytes: [UInt8]) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.contains(0) { return nil }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            // A refusal may be Foundation's own limit on numbers or depth.
            if let ours = try? JSONParser.parse(bytes), Self.beyondFoundation(ours, depth: 0) { return nil }
            accepts = false
            return
        }
        _ = value
        if (try? JSONParser.parse(bytes)) == nil {
            if (try? JSONParser.parse(Self.withoutTrailingCommas(bytes))) != nil { return nil }
        }
        if let ours = try? JSONParser.parse(bytes), Self.hasDuplicateKeys(ours) { return nil }
        accepts = true
    }

    /// `bytes` without each comma that only whitespace separates from a `]` or `}`, outside strings.
    static func withoutTrailingCommas(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = [], inString = false, escaped = false, pendingComma: Int?
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                pendingComma = nil
            } else if byte == UInt8(ascii: ",") {
                pendingComma = result.count
            } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                if let comma = pendingComma { result.remove(at: comma) }
                pendingComma = nil
            } else if ![0x20, 0x09, 0x0A, 0x0D].contains(byte) {
                pendingComma = nil
            }
            result.append(byte)
        }
        return result
    }

    static func hasDuplicateKeys(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let object):
            let keys = object.members.map(\.key)
            return Set(keys).count != keys.count || object.members.contains { hasDuplicateKeys($0.value) }
        case .array(let items): return items.contains(where: hasDuplicateKeys)
        default: return false
        }
    }

    static func beyondFoundation(_ value: JSONValue, depth: Int) -> Bool {
        if depth >= 500 { return true }
        switch value {
        case .number(let number): return !(Double(number.literal)?.isFinite ?? false)
        case .object(let object): return object.members.contains { beyondFoundation($0.value, depth: depth + 1) }
        case .array(let items): return items.contains { beyondFoundation($0, depth: depth + 1) }
        default: return false
        }
    }
}
