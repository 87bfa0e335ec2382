import Foundation

/// A source's API key, read from where its settings say; never printed.
/// One rule for every key file, ssh's for private keys: only its owner, this
/// user, may read it, else it is refused.
public struct APIKey: Sendable {
    public let value: String
    /// Where it came from, for messages: `the file PATH` or the variable's name.
    public let origin: String

    public static func read(_ key: ArchiveConfig.SourceSettings.Key, environment: [String: String]) throws(APIKeyError) -> APIKey {
        switch key {
        case .environment(let name):
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw .unsetVariable(name)
            }
            return APIKey(value: value, origin: name)
        case .defaultVariables:
            for name in ["LLAMA_CLOUD_API_KEY", "LLAMA_PARSE_API_KEY"] {
                if let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
                    return APIKey(value: value, origin: name)
                }
            }
            throw .none
        case .file(let path):
            let file = (path as NSString).expandingTildeInPath
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { throw .unreadable(file: file) }
            if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 { throw .readableByOthers(file: file, mode: mode) }
            if let owner = attributes[.ownerAccountID] as? NSNumber, owner.uint32Value != getuid() { throw .notOwned(file: file) }
            guard let data = FileManager.default.contents(atPath: file) else { throw .unreadable(file: file) }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw .empty(file: file) }
            guard !value.contains(where: \.isNewline) else { throw .severalLines(file: file) }
            return APIKey(value: value, origin: "the file \(file)")
        }
    }
}
