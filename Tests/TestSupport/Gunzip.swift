import Foundation

/// A gzip file's contents, through gzip(1): the dataset's files are read
/// back by another implementation than the one that wrote them.
public func gunzip(_ path: String) throws -> (data: Data, status: Int32) {
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
    gzip.arguments = ["-dc", path]
    let pipe = Pipe()
    gzip.standardOutput = pipe
    try gzip.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    gzip.waitUntilExit()
    return (data, gzip.terminationStatus)
}
