import Foundation

/// A shell command from the config file (`notify_command`), run with a time
/// limit: in a process group of its own, so that at the limit the command
/// and every child it started are killed together; its standard output
/// discarded, its standard error the user's. The input is written without
/// waiting, so a command that never reads it cannot hold the caller either.
public enum BoundedCommand {
    public enum Outcome: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut(seconds: Double)
        case couldNotStart(String)

        /// What went wrong in words, nil when it exited 0.
        public var failure: String? {
            switch self {
            case .exited(0): return nil
            case .exited(let status): return "exited with status \(status)"
            case .signalled(let signal): return "was ended by signal \(signal)"
            case .timedOut(let seconds): return "did not finish within \(Self.shown(seconds)) s and was killed with its children"
            case .couldNotStart(let reason): return "could not start: \(reason)"
            }
        }

        private static func shown(_ seconds: Double) -> String {
            seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        }
    }

    public static func run(_ command: String, input: [UInt8], seconds: Double) -> Outcome {
        signal(SIGPIPE, SIG_IGN)  // a command that does not read its input must not end the caller
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return .couldNotStart(String(cString: strerror(errno))) }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, 0)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGPIPE, SIGINT, SIGTERM] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let arguments: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (text: String) in strdup(text) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments, environ)
        close(readEnd)
        guard spawned == 0 else {
            close(writeEnd)
            return .couldNotStart(String(cString: strerror(spawned)))
        }
        _ = fcntl(writeEnd, F_SETFL, O_NONBLOCK)
        var written = 0
        while written < input.count {
            let count = input[written...].withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            if count > 0 { written += count } else if count < 0 && errno == EINTR { continue } else { break }
        }
        close(writeEnd)

        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { return .couldNotStart("lost it: \(String(cString: strerror(errno)))") }
            if Date() >= deadline {
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return .timedOut(seconds: seconds)
            }
            usleep(10_000)
        }
        // WIFEXITED and WEXITSTATUS are macros Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}
