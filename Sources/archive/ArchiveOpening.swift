import ArchiveCore
import Foundation

extension ArchiveLocationOptions {
    /// The archive at `path`, with the config file's settings, its lock held
    /// as `archive COMMAND`; an upgrade of its schema said on standard error
    /// unless `noteUpgrade` is false (a sync from cron).
    func archive(noteUpgrade: Bool = true) -> Archive {
        let path = path
        let said: @Sendable (Int, Int) -> Void = { from, to in
            Terminal.standardError.writeLine("archive: upgrading \(path) from schema version \(from) to \(to) (once)")
        }
        let settings: ArchiveConfig = CommandLineConfig.loaded
        let holder = "archive " + CommandLineConfig.commandName
        guard noteUpgrade else { return Archive(path: path, settings: settings, holder: holder) }
        return Archive(path: path, settings: settings, holder: holder, onUpgrade: said)
    }

}

/// The command line's way into the archive: a failure is one line and exit
/// 1, the writers' lock held by another exit 75 naming the holder.
extension Archive {
    /// `body` on a reader; a missing (or, unless `allowEmpty`, empty) archive is one line and exit 1.
    func reading<T>(allowEmpty: Bool = false, _ body: (ArchiveReader) throws -> T) throws -> T {
        do { return try read(allowEmpty: allowEmpty, body) } catch { throw fail(error, code: ExitStatus.fatal) }
    }

    /// `reading` for an asynchronous `body`.
    func reading<T>(allowEmpty: Bool = false, _ body: (ArchiveReader) async throws -> T) async throws -> T {
        do { return try await read(allowEmpty: allowEmpty, body) } catch { throw fail(error, code: ExitStatus.fatal) }
    }

    /// `body` on the writer, under the writers' lock; unless `mayCreate`, the archive must exist.
    func writing<T>(mayCreate: Bool = false, _ body: (ArchiveWriter) throws -> T) throws -> T {
        do { return try write(mustExist: !mayCreate, body) } catch { throw fail(error, code: ExitStatus.fatal) }
    }
}

/// The session a typed id (or a unique prefix of one) names; else one line
/// with the candidates, and exit 1.
func resolveSession(_ text: String, in store: ArchiveReader) throws -> String {
    switch try answer({ try store.lookUpSession(text) }) {
    case .found(let id):
        return id
    case .inSeveralSources(let ids):
        throw fail("session id \(text) is in several sources: \(ids.joined(separator: ", ")); name one as SOURCE:ID", code: ExitStatus.fatal)
    case .ambiguous(let ids):
        throw fail("session id \(text) is the start of several: \(ids.joined(separator: ", "))\(ids.count == 10 ? ", …" : ""); give more of it",
                   code: ExitStatus.fatal)
    case .unknown(let closest):
        let hint = closest.isEmpty ? "" : "; closest: " + closest.joined(separator: ", ")
        throw fail(ArchiveError.unknownSession(text).description + hint, code: ExitStatus.fatal)
    }
}

/// Runs a query, turning its failures into one line and exit 1.
@discardableResult
func answer<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch {
        throw fail(error, code: ExitStatus.fatal)
    }
}
