import Foundation

/// Where the archive file lives: `--db`, else `ARCHIVE_DB`, else the config
/// file's `db`, else `$XDG_DATA_HOME/llamacloud-archive/archive.db`
/// (XDG_DATA_HOME defaulting to ~/.local/share).
public enum ArchiveLocation {
    public static func resolve(explicit: String?, configured: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> String {  // our own names
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["ARCHIVE_DB"], !fromEnvironment.isEmpty { return fromEnvironment }
        if let configured { return configured }
        return xdgPath("archive.db", home: "XDG_DATA_HOME", orUnderHome: ".local/share", environment: environment)
    }

    /// `$VARIABLE/llamacloud-archive/NAME`, with the XDG default under HOME when the variable is unset or empty.
    static func xdgPath(_ name: String, home variable: String, orUnderHome fallback: String,
                        environment: [String: String]) -> String {  // our own names
        let base: String
        if let xdg = environment[variable], !xdg.isEmpty {
            base = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = (home as NSString).appendingPathComponent(fallback)
        }
        return ((base as NSString).appendingPathComponent("llamacloud-archive") as NSString).appendingPathComponent(name)
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
