// libFuzzer target for the TOML reader, linked with Sources/TOML by
// scripts/fuzz: it must never crash (nesting is bounded, every index is
// checked), and line ends must not matter: a document without CR reads the
// same with every LF turned into CRLF, and the same again behind a byte
// order mark. What it accepts is checked against Python's tomllib by the
// differential tests (Tests/TOMLTests), over the corpus this target starts from.
import TOML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let plain = outcome(bytes)
    guard !bytes.contains(0x0D) else { return 0 }
    let crlf = bytes.flatMap { $0 == 0x0A ? [0x0D, 0x0A] : [$0] }
    guard outcome(crlf) == plain else { fatalError("CRLF line ends read differently: \(String(decoding: bytes, as: UTF8.self).debugDescription)") }
    guard outcome([0xEF, 0xBB, 0xBF] + bytes, file: true) == plain else {
        fatalError("a byte order mark changed the reading: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
    }
    return 0
}

/// The document's reading as text to compare: its values, or its error's line.
func outcome(_ bytes: [UInt8], file: Bool = false) -> String {
    do {
        let table = file ? try TOMLReader.parse(fileContents: bytes) : try TOMLReader.parse(bytes)
        return describe(.table(table))
    } catch {
        return "error at line \(error.line)"
    }
}

func describe(_ value: TOMLValue) -> String {
    switch value {
    case .table(let table): return "{" + table.entries.map { "\(Array($0.key.utf8))@\($0.line)=\(describe($0.value))" }.joined(separator: ",") + "}"
    case .array(let items): return "[" + items.map(describe).joined(separator: ",") + "]"
    case .string(let text): return "s\(Array(text.utf8))"
    case .float(let number): return number.isNaN ? "nan" : "f\(number.bitPattern)"
    default: return "\(value)"
    }
}
