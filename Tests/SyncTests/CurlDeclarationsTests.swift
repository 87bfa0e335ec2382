import Foundation
import Testing
import TestSupport

/// Our own declarations of libcurl's API (Sources/CCurl/shim.h) against curl's
/// real headers, when a machine has them: `CURL_INCLUDE_DIR` names a folder
/// holding `curl/curl.h` (CI extracts Debian's libcurl4-openssl-dev there
/// without installing it), else the system's include folders are tried.
@Suite(.enabled(if: CurlHeaders.includeFlags != nil, "curl's development headers are not on this machine"))
struct CurlDeclarationsTests {
    static let shim = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/CCurl/shim.h")

    @Test func everyConstantWeDeclareHasCurlsValue() throws {
        let text = try String(contentsOf: Self.shim, encoding: .utf8)
        let ours = CurlHeaders.declaredConstants(in: text)
        #expect(ours.count >= 30, "the shim's constants were not found: \(ours.count)")
        let printers = ours.map { "printf(\"%s=%lld\\n\", \"\($0.name)\", (long long)(\($0.name)));" }.joined(separator: "\n")
        let program = """
            #include <stdio.h>
            #include <stddef.h>
            #include <curl/curl.h>
            int main(void) {
            \(printers)
            printf("sizeof(curl_off_t)=%zu\\n", sizeof(curl_off_t));
            printf("offsetof(curl_slist.next)=%zu\\n", offsetof(struct curl_slist, next));
            return 0;
            }
            """
        let output = try CurlHeaders.compileAndRun(program)
        var theirs: [String: Int64] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int64(parts[1]) { theirs[String(parts[0])] = value }
        }
        for constant in ours {
            #expect(theirs[constant.name] == constant.value, "\(constant.name): ours \(constant.value), curl.h \(theirs[constant.name].map(String.init) ?? "missing")")
        }
        #expect(theirs["sizeof(curl_off_t)"] == Int64(MemoryLayout<Int64>.size))
        #expect(theirs["offsetof(curl_slist.next)"] == Int64(MemoryLayout<UnsafeRawPointer>.size))
    }

    /// C accepts a second declaration of a function only when it is compatible
    /// with the first, so compiling ours after curl.h checks every signature.
    @Test func everyFunctionWeDeclareHasCurlsSignature() throws {
        let text = try String(contentsOf: Self.shim, encoding: .utf8)
        let prototypes = text.split(separator: "\n").filter { line in
            !line.hasPrefix("static") && !line.hasPrefix(" ") && line.hasSuffix(");") && line.contains("curl_")
        }
        #expect(prototypes.count >= 10, "the shim's prototypes were not found: \(prototypes.count)")
        let program = "#define CURL_DISABLE_TYPECHECK\n#include <curl/curl.h>\n" + prototypes.joined(separator: "\n") + "\nint main(void) { return 0; }\n"
        _ = try CurlHeaders.compileAndRun(program)
    }
}

enum CurlHeaders {
    static let includeFlags: [String]? = {
        if let folder = ProcessInfo.processInfo.environment["CURL_INCLUDE_DIR"], !folder.isEmpty {
            return ["-I", folder]  // named on purpose: a folder without curl.h fails the tests
        }
        let system = ["/usr/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu"]
        return system.contains { FileManager.default.fileExists(atPath: $0 + "/curl/curl.h") } ? [] : nil
    }()

    struct Constant { let name: String; let value: Int64 }

    /// `NAME = value` inside the shim's enums and `#define NAME value` lines.
    static func declaredConstants(in header: String) -> [Constant] {
        header.split(separator: "\n").compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
            let words = line.split(separator: " ")
            let name: Substring, value: Substring
            if words.count == 3, words[0] == "#define" { (name, value) = (words[1], words[2]) }
            else if words.count == 3, words[1] == "=" { (name, value) = (words[0], words[2]) }
            else { return nil }
            guard name.hasPrefix("CURL") else { return nil }
            let number = value.hasPrefix("0x") ? Int64(value.dropFirst(2), radix: 16) : Int64(value)
            return number.map { Constant(name: String(name), value: $0) }
        }
    }

    static func compileAndRun(_ program: String) throws -> String {
        try CProgram.compileAndRun(program, flags: includeFlags ?? [])
    }
}
