// libFuzzer target for the JSON parser, compiled together with
// Sources/LosslessJSON by scripts/fuzz: it must never crash, and what it
// parses must write back and parse again to the same text (parse → write →
// parse is the identity on ordered JSON with exact number literals).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
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
