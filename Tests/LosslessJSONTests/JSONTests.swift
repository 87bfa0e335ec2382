import Foundation
import Testing
import LosslessJSON

@Suite struct JSONTests {
    @Test func keepsNumberLiteralsExactly() throws {
        let value = try JSONParser.parse(#"{"big": 9007199254740993, "f": 1.10, "e": -2.5E+3, "z": 0, "neg": -0.0}"#)
        #expect(value["big"]?.int64Value == 9_007_199_254_740_993)
        #expect(value.serialized == #"{"big":9007199254740993,"f":1.10,"e":-2.5E+3,"z":0,"neg":-0.0}"#)
    }

    @Test func keepsMemberOrderAndComparesWithoutIt() throws {
        let a = try JSONParser.parse(#"{"b":1,"a":[true,false,null]}"#)
        let b = try JSONParser.parse(#"{"a":[true,false,null],"b":1}"#)
        #expect(a == b)
        #expect(a.objectValue?.keys == ["b", "a"])
        #expect(a != (try JSONParser.parse(#"{"a":[true,false,null],"b":2}"#)))
    }

    @Test func decodesEscapesSurrogatesAndNUL() throws {
        // (A lone surrogate is refused: UnicodeValidityTests.)
        let value = try JSONParser.parse(#"["a\u0000b", "\ud83d\ude00", "\"\\\/\b\f\n\r\t", "é€"]"#)
        let strings = value.arrayValue!.map { $0.stringValue! }
        #expect(strings[0] == "a\u{0}b")
        #expect(strings[1] == "😀")
        #expect(strings[2] == "\"\\/\u{8}\u{c}\n\r\t")
        #expect(strings[3] == "é€")
    }

    @Test func roundTripsThroughTheWriter() throws {
        let text = #"{"s":"a\u0000\"\\\n👩‍👩‍👧","n":[1,2.50,-3e7],"o":{"x":null,"y":{}},"t":true,"a":[]}"#
        let value = try JSONParser.parse(text)
        let again = try JSONParser.parse(value.serialized)
        #expect(again == value)
        #expect(value.serialized == #"{"s":"a\u0000\"\\\n👩‍👩‍👧","n":[1,2.50,-3e7],"o":{"x":null,"y":{}},"t":true,"a":[]}"#)
        // Foundation agrees the output is valid JSON.
        _ = try JSONSerialization.jsonObject(with: Data(value.serialized.utf8))
    }

    @Test(arguments: [
        ("", 1), ("{", 1), ("[1,]", 1), ("{\"a\" 1}", 1), ("01", 1), ("1.", 1), ("\"abc", 1),
        ("\"a\u{1}\"", 1), ("nul", 1), ("[1] x", 1), ("{\n\"a\":\n tru}", 3), ("\"\\x\"", 1), ("-", 1),
    ])
    func rejectsInvalidInputWithItsLine(_ input: String, _ line: Int) {
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
        #expect(error?.line == line)
    }

    @Test func refusesExcessiveNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    @Test func numberConversions() {
        #expect(JSONNumber(literal: "12").int64Value == 12)
        #expect(JSONNumber(literal: "1.5").int64Value == nil)
        #expect(JSONNumber(literal: "1e3").int64Value == 1000)
        #expect(JSONNumber(literal: "1.5").doubleValue == 1.5)
        #expect(JSONNumber(3.0).literal == "3")
        #expect(JSONNumber(0.25).literal == "0.25")
    }

    @Test func objectSubscriptSetsReplacesAndRemoves() {
        var object = JSONObject()
        object["a"] = 1
        object["b"] = "x"
        object["a"] = 2
        #expect(object.keys == ["a", "b"])
        #expect(object["a"] == 2)
        object["a"] = nil
        #expect(object.keys == ["b"])
    }
}

@Suite struct UnicodeValidityTests {
    func failure(_ bytes: [UInt8]) -> String? {
        do { _ = try JSONParser.parse(bytes); return nil } catch { return error.message }
    }

    @Test func malformedUTF8IsRefusedNotReplaced() throws {
        let prefix = Array(#"{"a":"ok"#.utf8)
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0x80]] {
            #expect(failure(prefix + bad + Array(#"x"}"#.utf8)) == "invalid UTF-8 at byte 8", "\(bad)")
        }
        // After an escape, the slow path checks the same.
        #expect(failure(Array(#"{"a":"\n"#.utf8) + [0xFF] + Array(#""}"#.utf8)) == "invalid UTF-8 at byte 8")
        let valid = #"{"a":"é 日本 🚀 👩‍💻"}"#
        #expect(try JSONParser.parse(valid)["a"] == "é 日本 🚀 👩‍💻")
    }

    @Test func loneSurrogateEscapesAreRefused() throws {
        #expect(failure(Array(#"["\ud800"]"#.utf8)) == #"lone surrogate \uD800"#)
        #expect(failure(Array(#"["\ud800\u0041"]"#.utf8)) == #"lone surrogate \uD800"#)
        #expect(failure(Array(#"["\udc00x"]"#.utf8)) == #"lone surrogate \uDC00"#)
        #expect(try JSONParser.parse(#"["\ud83d\ude80"]"#) == ["🚀"])
    }

    @Test func messagesNeverCarryRawControlBytes() {
        for byte: UInt8 in [0x00, 0x1B, 0x07, 0x9B] {
            let message = failure([UInt8(ascii: "["), byte, UInt8(ascii: "]")]) ?? ""
            #expect(message == "unexpected byte 0x\(String(byte, radix: 16, uppercase: true))", "\(message.debugDescription)")
        }
    }
}
