import Foundation

/// Where the archive file lives: `--db`, else `ARCHIVE_DB`, else
/// `$XDG_DATA_HOME/llamacloud-archive/archive.db` (XDG_DATA_HOME defaulting to ~/.local/share).
public enum ArchiveLocation {
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["ARCHIVE_DB"], !fromEnvironment.isEmpty { return fromEnvironment }
        let dataHome: String
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            dataHome = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            dataHome = (home as NSString).appendingPathComponent(".local/share")
        }
        return ((dataHome as NSString).appendingPathComponent("llamacloud-archive") as NSString)
            .appendingPathComponent("archive.db")
    }

    /// Creates the folder (0700) and an empty file (0600) when they do not exist yet,
    /// so that SQLite never creates the archive readable by others.
    static func prepare(path: String) throws {
        let manager = FileManager.default
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !manager.fileExists(atPath: folder) {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                        attributes: [.posixPermissions: 0o700])
        }
        if !manager.fileExists(atPath: path) {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if descriptor >= 0 {
                close(descriptor)
            } else if errno != EEXIST {
                throw ArchiveError.unusableArchive(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }
}
