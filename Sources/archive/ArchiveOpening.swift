import ArchiveCore
import Foundation

/// The writers' lock on an archive; exit 75 when another holds it.
func lockArchive(_ path: String) throws -> ArchiveLock {
    do { return try ArchiveLock(archivePath: path) } catch {
        if case .held = error { throw fail(error, code: ExitStatus.locked) }
        throw fail(error, code: ExitStatus.fatal)
    }
}

/// Opens an existing archive for reading; a missing or empty one is a clear error.
func openArchiveForReading(_ location: ArchiveLocationOptions, allowEmpty: Bool = false) throws -> ArchiveReader {
    let path = location.path
    guard FileManager.default.fileExists(atPath: path) else {
        throw fail("no archive at \(path): run `archive sync` or `archive import` first", code: ExitStatus.fatal)
    }
    let store: ArchiveReader
    do { store = try ArchiveReader(path: path, onUpgrade: noteUpgrade(of: path)) } catch { throw fail(error, code: ExitStatus.fatal) }
    if !allowEmpty, (try? store.isEmpty) ?? true {
        throw fail(ArchiveError.emptyArchive(path: path), code: ExitStatus.fatal)
    }
    return store
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
