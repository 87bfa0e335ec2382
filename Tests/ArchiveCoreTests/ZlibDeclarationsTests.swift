import CZlib
import Foundation
import Testing
import TestSupport

/// Our own declarations of zlib (Sources/CZlib/shim.h) against zlib's real
/// header, when a machine has it (building never needs it): the constants,
/// the stream's layout field by field, and the functions' signatures.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/include/zlib.h"), "zlib's development header is not on this machine"))
struct ZlibDeclarationsTests {
    static let shim = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/CZlib/shim.h")

    @Test func theConstantsAndTheStreamsLayoutAreZlibs() throws {
        let fields = ["next_in", "avail_in", "total_in", "next_out", "avail_out", "total_out", "msg", "state", "zalloc",
                      "zfree", "opaque", "data_type", "adler", "reserved"]
        let constants = ["Z_NO_FLUSH", "Z_FINISH", "Z_OK", "Z_STREAM_END", "Z_BUF_ERROR", "Z_DEFLATED", "Z_DEFAULT_STRATEGY"]
        let program = """
            #include <stdio.h>
            #include <stddef.h>
            #include <zlib.h>
            int main(void) {
            printf("sizeof=%zu\\n", sizeof(z_stream));
            \(fields.map { "printf(\"\($0)=%zu\\n\", offsetof(z_stream, \($0)));" }.joined(separator: "\n"))
            \(constants.map { "printf(\"\($0)=%d\\n\", \($0));" }.joined(separator: "\n"))
            printf("major=%c\\n", ZLIB_VERSION[0]);
            return 0;
            }
            """
        var theirs: [String: String] = [:]
        for line in try CProgram.compileAndRun(program).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { theirs[String(parts[0])] = String(parts[1]) }
        }
        #expect(theirs["sizeof"] == String(MemoryLayout<z_stream>.size))
        let ours: [String: Int?] = [
            "next_in": MemoryLayout<z_stream>.offset(of: \.next_in), "avail_in": MemoryLayout<z_stream>.offset(of: \.avail_in),
            "total_in": MemoryLayout<z_stream>.offset(of: \.total_in), "next_out": MemoryLayout<z_stream>.offset(of: \.next_out),
            "avail_out": MemoryLayout<z_stream>.offset(of: \.avail_out), "total_out": MemoryLayout<z_stream>.offset(of: \.total_out),
            "msg": MemoryLayout<z_stream>.offset(of: \.msg), "state": MemoryLayout<z_stream>.offset(of: \.state),
            "zalloc": MemoryLayout<z_stream>.offset(of: \.zalloc), "zfree": MemoryLayout<z_stream>.offset(of: \.zfree),
            "opaque": MemoryLayout<z_stream>.offset(of: \.opaque), "data_type": MemoryLayout<z_stream>.offset(of: \.data_type),
            "adler": MemoryLayout<z_stream>.offset(of: \.adler), "reserved": MemoryLayout<z_stream>.offset(of: \.reserved),
        ]
        for field in fields { #expect(theirs[field] == ours[field]!.map(String.init), "\(field)") }
        let values: [String: Int32] = ["Z_NO_FLUSH": Z_NO_FLUSH, "Z_FINISH": Z_FINISH, "Z_OK": Z_OK, "Z_STREAM_END": Z_STREAM_END,
                                       "Z_BUF_ERROR": Z_BUF_ERROR, "Z_DEFLATED": Z_DEFLATED, "Z_DEFAULT_STRATEGY": Z_DEFAULT_STRATEGY]
        for constant in constants { #expect(theirs[constant] == values[constant].map(String.init), "\(constant)") }
        #expect(theirs["major"] == String(ARCHIVE_ZLIB_VERSION.prefix(1)))
    }

    /// C accepts a second declaration of a function only when it is
    /// compatible with the first: ours, after zlib.h, checks each signature.
    @Test func theFunctionsWeDeclareHaveZlibsSignatures() throws {
        let text = try String(contentsOf: Self.shim, encoding: .utf8)
        var prototypes: [String] = []
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current.isEmpty && !line.hasPrefix("int ") { continue }
            current += line + "\n"
            if line.hasSuffix(");") { prototypes.append(current); current = "" }
        }
        #expect(prototypes.count == 7, "\(prototypes)")
        _ = try CProgram.compileAndRun("#include <zlib.h>\n" + prototypes.joined() + "int main(void) { return 0; }\n")
    }
}
