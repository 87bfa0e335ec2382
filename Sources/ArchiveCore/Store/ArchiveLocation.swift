import Foundation

/// Where the archive file lives: `--db`, else `ARCHIVE_DB`, else the config
/// file's `db`, else `$XDG_DATA_HOME/llamacloud-archive/archive.db`
/// (XDG_DATA_HOME defaulting to ~/.local/share).
public enum ArchiveLocation {
    public static func resolve(explicit: String?, configured: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["ARCHIVE_DB"], !fromEnvironment.isEmpty { return fromEnvironment }
        if let configured { return configured }
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

    static func prepareFolder(of path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw ArchiveError.unusableArchive(path: path, reason: "cannot create the folder \(folder)")
            }
        }
    }

    /// Creates the folder (0700) and an empty file (0600) when they do not exist yet,
    /// so that SQLite never creates the archive readable by others.
    static func prepare(path: String) throws {
        try prepareFolder(of: path)
        if !FileManager.default.fileExists(atPath: path) {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if descriptor >= 0 {
                close(descriptor)
            } else if errno != EEXIST {
                throw ArchiveError.unusableArchive(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }
}
