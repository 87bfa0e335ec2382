import Foundation

/// Files and folders the tool creates where someone else may have planted a
/// symbolic link first: every one is created exclusively (`mkdtemp`,
/// `mkstemp`, `O_EXCL`, `O_NOFOLLOW`), so that nothing is written through
/// a link, and owner-only (0700 folders, 0600 files).
public enum PrivateFiles {
    public struct FileError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write \(path): \(reason)" }

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// A new folder `<parent>/<prefix>XXXXXX`, mode 0700, that did not exist before.
    public static func makeFreshFolder(in parent: String, prefix: String) throws(FileError) -> String {
        var template = Array(((parent as NSString).appendingPathComponent(prefix + "XXXXXX")).utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw FileError(path: parent, reason: String(cString: strerror(errno))) }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Writes a file the way an editor saves: into a new temporary file beside
    /// `path` (created exclusively, 0600), then renamed over `path`. A link
    /// standing at `path` is replaced, never written through, and a failed
    /// write leaves whatever was there before. A `path` that is a device or a
    /// pipe (`/dev/stdout`, a FIFO) is written directly, without creating anything.
    /// `mode` is the file's when it is renamed into place (0600 unless a reader
    /// of another user must read it, as a metrics collector does).
    public static func write(to path: String, mode: mode_t = 0o600, _ body: (FileHandle) throws -> Void) throws {
        var existing = stat()
        if stat(path, &existing) == 0, (existing.st_mode & S_IFMT) != S_IFREG, (existing.st_mode & S_IFMT) != S_IFDIR {
            let descriptor = open(path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw FileError(path: path, reason: String(cString: strerror(errno))) }
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            try body(handle)
            return
        }
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array(((folder.isEmpty ? "." : folder) as NSString)
            .appendingPathComponent(".\(name).XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw FileError(path: path, reason: String(cString: strerror(errno))) }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do {
            try body(FileHandle(fileDescriptor: descriptor, closeOnDealloc: false))
            guard fsync(descriptor) == 0, mode == 0o600 || fchmod(descriptor, mode) == 0 else {
                throw FileError(path: path, reason: String(cString: strerror(errno)))
            }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard close(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileError(path: path, reason: reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileError(path: path, reason: reason)
        }
    }

    /// A new empty file beside `path`, `.<name>.<tag>-XXXXXX`, mode 0600, that did not exist before.
    public static func makeFreshFile(beside path: String, tag: String) throws(FileError) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array(((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(".\(name).\(tag)-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw FileError(path: path, reason: String(cString: strerror(errno))) }
        close(descriptor)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Puts a finished temporary file in its place: its bytes on disk first,
    /// then the rename, then the folder's entry on disk.
    public static func commit(_ temporary: String, to path: String) throws(FileError) {
        let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0, fsync(descriptor) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw FileError(path: path, reason: String(cString: strerror(errno)))
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { throw FileError(path: path, reason: String(cString: strerror(errno))) }
        let folder = (path as NSString).deletingLastPathComponent
        let directory = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }
}
