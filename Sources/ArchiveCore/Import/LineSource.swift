/// A `LineReader`'s lines with a few put back in front, for reading a file's
/// first lines to decide its shape and then reading it from the start.
struct LineSource {
    private let reader: LineReader
    private var returned: [(line: [UInt8], number: Int)] = []

    init(_ reader: LineReader) { self.reader = reader }

    mutating func next() -> (line: [UInt8], number: Int)? {
        returned.isEmpty ? PhaseProfile.measure(.readLines) { reader.nextLine() } : returned.removeFirst()
    }

    mutating func pushBack(_ line: (line: [UInt8], number: Int)) { returned.insert(line, at: 0) }
    mutating func pushBack(contentsOf lines: [(line: [UInt8], number: Int)]) { returned.insert(contentsOf: lines, at: 0) }
}
