/// Text from the archive (chat text, titles, tool output, server messages) is
/// someone else's: printed raw, an escape sequence in it could write the
/// clipboard, retitle the window, clear the screen or forge lines. Every
/// command prints it through these.
extension String {
    /// C0 controls but newline and tab, DEL and C1 controls become U+FFFD; NUL
    /// becomes ␀ (so that `show … | grep` never takes the output for binary).
    var terminalSafe: String { replacingControls(keepLineBreaks: true) }

    /// The same on one line: newlines, tabs and carriage returns become spaces.
    var oneLineSafe: String { replacingControls(keepLineBreaks: false) }

    private func replacingControls(keepLineBreaks: Bool) -> String {
        func isControl(_ value: UInt32) -> Bool { value < 0x20 || (0x7F...0x9F).contains(value) }
        guard unicodeScalars.contains(where: { isControl($0.value) && !(keepLineBreaks && ($0 == "\n" || $0 == "\t")) }) else {
            return self
        }
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar == "\n" || scalar == "\t" {
                out.append(keepLineBreaks ? scalar : " ")
            } else if scalar == "\r" && !keepLineBreaks {
                out.append(" ")
            } else if scalar == "\0" {
                out.append("␀")
            } else {
                out.append(isControl(scalar.value) ? "\u{FFFD}" : scalar)
            }
        }
        return String(out)
    }
}

/// Search hits mark their matches with these (private use characters, which
/// no sanitising touches); the table turns them into colour on a terminal
/// and drops them elsewhere.
enum HighlightMarks {
    static let open = "\u{E000}"
    static let close = "\u{E001}"

    static func render(_ text: String, color: Bool) -> String {
        // Both marks begin with the byte 0xEE in UTF-8: most cells have none.
        guard text.utf8.contains(0xEE), text.unicodeScalars.contains(where: { $0.value == 0xE000 || $0.value == 0xE001 }) else {
            return text
        }
        var out = color ? text.replacingOccurrences(of: open, with: "\u{1B}[1;33m").replacingOccurrences(of: close, with: "\u{1B}[0m")
                        : text.replacingOccurrences(of: open, with: "").replacingOccurrences(of: close, with: "")
        // A highlight that truncation cut off must not colour the rest of the line.
        if color, text.components(separatedBy: open).count > text.components(separatedBy: close).count { out += "\u{1B}[0m" }
        return out
    }
}
