import SQLiteCore

/// The limits of one piece of reading (an MCP tool call, `archive sql
/// --max-seconds`): seconds, and steps of SQLite's machine (about one row
/// looked at each). `stop()`, from any thread, ends it at once (a
/// cancellation, a client gone). One use each: the clock starts when it is made.
public final class ReadingLimits: @unchecked Sendable {
    public let seconds: Double
    public let steps: Int?
    let budget: WorkBudget

    public init(seconds: Double, steps: Int? = nil) {
        self.seconds = seconds
        self.steps = steps
        budget = WorkBudget(seconds: seconds, steps: steps)
    }

    public func stop() { budget.stop() }

    /// Which limit ended the reading, if one did.
    public var reached: Reached? {
        switch budget.reached {
        case .time?: .time
        case .steps?: .steps
        case .stopped?: .stopped
        case nil: nil
        }
    }

    public enum Reached: Sendable, Equatable { case time, steps, stopped }
}

/// Reading ended by one of its limits: which, and how to ask within it.
public struct ReadingLimitError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Limit: Sendable, Equatable {
        case time(seconds: Double)
        case steps(Int)
        case memory(megabytes: Int)
        case stopped
    }

    public let limit: Limit

    public var description: String {
        let narrow = "narrow it: a WHERE on an indexed column (session_key, project_id, last_updated_at), a LIMIT, a shorter time window"
        switch limit {
        case .time(let seconds): return "the query ran past its time limit of \(Self.shown(seconds)) s and was stopped; \(narrow)"
        case .steps(let steps): return "the query looked at more than \(steps) rows and was stopped; \(narrow)"
        case .memory(let megabytes): return "the query needed more than \(megabytes) MB of memory and was stopped; \(narrow)"
        case .stopped: return "the query was cancelled"
        }
    }

    private static func shown(_ seconds: Double) -> String { seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds) }
}

extension ArchiveReader {
    /// The memory SQLite may hold in this process, for a server that reads
    /// what others ask: a query past it fails with `ReadingLimitError.memory`.
    public static func limitMemory(megabytes: Int) {
        memoryLimit = megabytes
        Database.limitHeap(bytes: Int64(megabytes) << 20)
    }

    nonisolated(unsafe) static var memoryLimit: Int?

    /// `body` within `limits`: reading past one of them ends with a `ReadingLimitError`.
    public func within<T>(_ limits: ReadingLimits, _ body: (ArchiveReader) throws -> T) throws -> T {
        do {
            return try database.limitingWork(limits.budget) { try body(self) }
        } catch {
            // Whatever a query's own error says of it, a spent budget is why it stopped.
            switch limits.budget.reached {
            case .time?: throw ReadingLimitError(limit: .time(seconds: limits.seconds))
            case .steps?: throw ReadingLimitError(limit: .steps(limits.steps ?? 0))
            case .stopped?: throw ReadingLimitError(limit: .stopped)
            case nil: break
            }
            let outOfMemory = (error as? SQLiteError)?.resultCode.primary == .noMemory || "\(error)".contains("out of memory")
            if outOfMemory, let megabytes = Self.memoryLimit { throw ReadingLimitError(limit: .memory(megabytes: megabytes)) }
            throw error
        }
    }
}
