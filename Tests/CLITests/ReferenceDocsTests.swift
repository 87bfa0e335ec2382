import Foundation
import Testing

/// docs/reference/cli.md and docs/reference/schema.md are what the code makes:
/// `scripts/gen-docs --check` regenerates both from this build's command
/// definitions and a new archive's schema, and names each command or table
/// whose section differs, and each column without a description.
@Suite struct ReferenceDocsTests {
    @Test func theGeneratedReferencesAreCurrent() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("scripts/gen-docs").path, "--check",
                             "--archive", ArchiveProcess.locateBinary().path]
        process.environment = ArchiveProcess.environment()
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try? output.fileHandleForReading.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(said)")
    }
}
