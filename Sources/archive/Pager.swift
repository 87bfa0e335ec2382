import ArgumentParser
import Foundation

/// `--no-pager`, for the commands whose output may run long.
struct PagerOptions: ParsableArguments {
    @Flag(name: .customLong("no-pager"), help: "Do not page the output on a terminal.")
    var noPager = false

    var enabled: Bool { !noPager }
}

/// Long output on a terminal goes through a pager, as git and gh do:
/// `$ARCHIVE_PAGER`, else `$PAGER`, else `less -FRX` (which quits at once when
/// the text fits the screen). Never when standard output is not a terminal,
/// and not when the pager is empty or `cat`.
enum Pager {
    /// While output goes through the pager, the terminal's width: output is
    /// laid out (and coloured) for the terminal the pager shows it on.
    nonisolated(unsafe) static var pagedWidth: Int?

    static func command(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let chosen = environment["ARCHIVE_PAGER"] ?? environment["PAGER"] ?? "less -FRX"
        let trimmed = chosen.trimmingCharacters(in: .whitespaces)
        guard let program = trimmed.split(separator: " ").first.map(String.init), program != "cat",
              isExecutable(program, path: environment["PATH"] ?? "/usr/bin:/bin") else { return nil }
        return trimmed
    }

    /// A pager that is not there is no pager: the output is written as it is.
    static func isExecutable(_ program: String, path: String) -> Bool {
        if program.contains("/") { return access(program, X_OK) == 0 }
        return path.split(separator: ":").contains { access("\($0)/\(program)", X_OK) == 0 }
    }

    static func page(enabled: Bool, _ body: () -> Void) {
        guard enabled, isatty(STDOUT_FILENO) == 1, let command = command() else { return body() }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return body() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = FileHandle(fileDescriptor: pipeEnds[0], closeOnDealloc: true)
        do { try process.run() } catch {
            close(pipeEnds[0]); close(pipeEnds[1])
            return body()
        }
        let width = Terminal.standardOutput.width
        let savedOutput = dup(STDOUT_FILENO)
        dup2(pipeEnds[1], STDOUT_FILENO)
        close(pipeEnds[1])
        signal(SIGPIPE, SIG_IGN)  // the reader may quit the pager before the end
        pagedWidth = width
        body()
        pagedWidth = nil
        dup2(savedOutput, STDOUT_FILENO)  // closes the pipe's last write end: the pager sees the end
        close(savedOutput)
        process.waitUntilExit()
    }
}
