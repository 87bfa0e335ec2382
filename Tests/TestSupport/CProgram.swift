import Foundation
import Testing

/// A small C program compiled with the machine's `cc` (warnings are errors)
/// and run: how our own declarations of a C library are held against its
/// real header, where a machine has one.
public enum CProgram {
    public static func compileAndRun(_ program: String, flags: [String] = []) throws -> String {
        let folder = try TemporaryDirectory()
        try program.write(toFile: folder.path("check.c"), atomically: true, encoding: .utf8)
        try run("/usr/bin/env", ["cc", "-Werror"] + flags + [folder.path("check.c"), "-o", folder.path("check")])
        return try run(folder.path("check"), [])
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        try #require(process.terminationStatus == 0, "\(executable) \(arguments.joined(separator: " ")) failed:\n\(text)")
        return text
    }
}
