import Foundation

/// Runs the built `archive` binary as a real subprocess.
struct ArchiveProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("archive")
            .resolvingSymlinksInPath()
    }

    static func locateBinary() -> URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        for folder in candidates {
            let url = folder.appendingPathComponent("archive")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return binary
    }

    /// Starts the process; `wait()` collects its result.
    final class Running: @unchecked Sendable {
        let process = Process()
        private let out = Pipe()
        private let err = Pipe()
        private var outData = Data()
        private var errData = Data()
        private let group = DispatchGroup()

        init(_ arguments: [String], environment: [String: String], directory: URL?, input: FileHandle? = nil) throws {
            process.executableURL = ArchiveProcess.locateBinary()
            process.arguments = arguments
            process.environment = environment
            if let directory { process.currentDirectoryURL = directory }
            process.standardOutput = out
            process.standardError = err
            process.standardInput = input ?? FileHandle.nullDevice
            try process.run()
            // Each read end is closed once read: Foundation's Pipe does not
            // close it when the Pipe goes, and the suite runs a thousand of these.
            group.enter()
            DispatchQueue.global().async {
                self.collect(output: self.out.fileHandleForReading.readDataToEndOfFile())
                try? self.out.fileHandleForReading.close()
                self.group.leave()
            }
            group.enter()
            DispatchQueue.global().async {
                self.collect(errors: self.err.fileHandleForReading.readDataToEndOfFile())
                try? self.err.fileHandleForReading.close()
                self.group.leave()
            }
        }

        // A lock as well as the group: libdispatch is not instrumented, so
        // ThreadSanitizer would not see the group's ordering.
        private let lock = NSLock()
        private func collect(output: Data? = nil, errors: Data? = nil) {
            lock.lock()
            if let output { outData = output }
            if let errors { errData = errors }
            lock.unlock()
        }

        private func collected() -> Result {
            lock.lock()
            defer { lock.unlock() }
            return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self))
        }

        func kill9() { Foundation.kill(process.processIdentifier, SIGKILL) }

        func wait() async -> Result {
            while process.isRunning { try? await Task.sleep(nanoseconds: 5_000_000) }
            await withCheckedContinuation { continuation in
                group.notify(queue: .global()) { continuation.resume() }
            }
            return collected()
        }
    }

    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in ["LLAMA_CLOUD_API_KEY", "LLAMA_PARSE_API_KEY", "LLAMA_CLOUD_BASE_URL", "ARCHIVE_DB", "XDG_DATA_HOME"] {
            environment[name] = nil
        }
        environment["XDG_CONFIG_HOME"] = "/nonexistent/llamacloud-archive-tests"  // no config file, unless a test makes one
        environment["NO_COLOR"] = "1"
        environment["ARCHIVE_PAGER"] = "cat"  // no pager, unless a test asks for one
        return environment.merging(extra) { _, new in new }
    }

    static func start(_ arguments: [String], environment extra: [String: String] = [:], directory: URL? = nil,
                      input: FileHandle? = nil) throws -> Running {
        try Running(arguments, environment: environment(extra), directory: directory, input: input)
    }

    static func run(_ arguments: [String], environment extra: [String: String] = [:], directory: URL? = nil,
                    input: FileHandle? = nil) async throws -> Result {
        try await start(arguments, environment: extra, directory: directory, input: input).wait()
    }
}

/// Runs blocking work (waiting on a process, say) on a thread of its own, so
/// that it never holds one of the task pool's few threads that other tests'
/// tasks need.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
