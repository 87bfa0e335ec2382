/// Requests encoded as the official SDK (httpx) encodes them: every byte of a
/// query value or a path segment but the unreserved ones is percent-encoded,
/// so a `+` in a cursor arrives as a `+`, not as a space.
enum FormEncoding {
    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                encoded.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return encoded
    }

    static func query(_ parameters: [(String, String)]) -> String {
        parameters.map { percentEncoded($0.0) + "=" + percentEncoded($0.1) }.joined(separator: "&")
    }
}

/// Text from a server made fit for one line of a terminal or log: control
/// characters (C0, DEL, C1) become U+FFFD and long text is cut.
public enum Printable {
    public static func clean(_ text: String, limit: Int = 500) -> String {
        var result = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { result.append("…"); break }
            let value = scalar.value
            result.append(value < 0x20 || (0x7F...0x9F).contains(value) ? "\u{FFFD}" : scalar)
            count += 1
        }
        return String(result)
    }
}
