/// Splits a JSON array into the bytes of its elements as the file is read,
/// line by line, so that an array of any size imports in flat memory: it
/// follows strings and nesting only, and each element is then parsed (and
/// so checked) on its own.
struct JSONArraySplitter {
    private var opened = false
    private var closed = false
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var element: [UInt8] = []
    private var elementLine = 0
    private var afterComma = false
    private var lineNumber: Int

    /// `firstLine`: the number of the line the first bytes fed are on.
    init(firstLine: Int) { lineNumber = firstLine }

    /// Feeds the next bytes of the file, in chunks of any size. `emit` gets
    /// each whole element with the line it starts on and says whether to go
    /// on; `onError` gets a line and a reason, and ends the feeding.
    mutating func feed(_ bytes: [UInt8], emit: ([UInt8], Int) -> Bool, onError: (Int, String) -> Void) -> Bool {
        for byte in bytes {
            defer { if byte == 0x0A { lineNumber += 1 } }
            if closed {
                if ![0x20, 0x09, 0x0A, 0x0D].contains(byte) {
                    onError(lineNumber, "unexpected data after the array")
                    return true
                }
                continue
            }
            if !opened {
                if byte == UInt8(ascii: "[") { opened = true }
                continue
            }
            if inString {
                element.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case _ where depth == 0 && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]")):
                if element.isEmpty {
                    // `[]` is an empty array; `[,`, `,,` and `,]` miss an element.
                    if byte == UInt8(ascii: ",") || afterComma {
                        onError(lineNumber, "expected an array element")
                        return true
                    }
                } else {
                    while let last = element.last, [0x20, 0x09, 0x0A, 0x0D].contains(last) { element.removeLast() }
                    guard emit(element, elementLine) else { return false }
                    element.removeAll(keepingCapacity: true)
                }
                afterComma = byte == UInt8(ascii: ",")
                if byte == UInt8(ascii: "]") { closed = true }
            case _ where element.isEmpty && [0x20, 0x09, 0x0A, 0x0D].contains(byte):
                continue
            default:
                if element.isEmpty { elementLine = lineNumber }
                element.append(byte)
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
        }
        return true
    }

    /// After the last line: what is wrong with an array left open, if anything.
    func finish() -> (line: Int, reason: String)? {
        if !opened { return (lineNumber, "expected an array") }
        return closed ? nil : (lineNumber, "unexpected end of input in an array")
    }
}
