@_spi(Testing) @testable import ArchiveCore
import Testing

/// The splitter that streams a JSON array from a file, fed in chunks cut anywhere.
@Suite struct JSONArraySplitterTests {
    static func split(_ text: String, chunk: Int, firstLine: Int = 1) -> (elements: [String], lines: [Int], error: String?, unfinished: String?) {
        var splitter = JSONArraySplitter(firstLine: firstLine)
        var elements: [String] = [], lines: [Int] = []
        var error: String?
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count, error == nil {
            let piece = Array(bytes[start..<min(bytes.count, start + chunk)])
            _ = splitter.feed(piece) { element, line in
                elements.append(String(decoding: element, as: UTF8.self))
                lines.append(line)
                return true
            } onError: { error = "\($0): \($1)" }
            start += chunk
        }
        return (elements, lines, error, splitter.finish().map { "\($0.line): \($0.reason)" })
    }

    @Test func elementsAndTheirLinesWhereverTheChunksAreCut() {
        let text = "\n[ {\"a\": \"x,]}\\\"\"},\n  [1, [2]],\n\n  \"s\\\\\" , 3\n]\n"
        for chunk in 1...text.utf8.count {
            let result = Self.split(text, chunk: chunk)
            #expect(result.elements == [#"{"a": "x,]}\""}"#, "[1, [2]]", #""s\\""#, "3"], "chunk \(chunk)")
            #expect(result.lines == [2, 3, 5, 5], "chunk \(chunk)")
            #expect(result.error == nil && result.unfinished == nil, "chunk \(chunk)")
        }
    }

    @Test func emptyArraysMissingElementsAndTrailingDataAreNamed() {
        #expect(Self.split(" [ ] ", chunk: 2).elements.isEmpty && Self.split(" [ ] ", chunk: 2).unfinished == nil)
        #expect(Self.split("[1,,2]", chunk: 3).error == "1: expected an array element")
        #expect(Self.split("[1,\n]", chunk: 3).error == "2: expected an array element")
        #expect(Self.split("[,1]", chunk: 3).error == "1: expected an array element")
        #expect(Self.split("[1]\n x", chunk: 3).error == "2: unexpected data after the array")
        #expect(Self.split("[1,\n2", chunk: 3).unfinished == "2: unexpected end of input in an array")
        #expect(Self.split("[1]", chunk: 1, firstLine: 7).lines == [7])
    }
}
