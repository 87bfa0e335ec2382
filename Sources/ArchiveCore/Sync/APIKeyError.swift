import Foundation

/// Why a source's API key could not be read. Its words name files and
/// variables, never the key.
public enum APIKeyError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(file: String)
    case empty(file: String)
    case severalLines(file: String)
    case readableByOthers(file: String, mode: Int)
    case notOwned(file: String)
    case unsetVariable(String)
    /// Neither LLAMA_CLOUD_API_KEY nor LLAMA_PARSE_API_KEY is set.
    case none

    public var description: String {
        switch self {
        case .unreadable(let file): "cannot read the API key file \(file)"
        case .empty(let file): "the API key file \(file) is empty"
        case .severalLines(let file): "the API key file \(file) holds more than one line"
        case let .readableByOthers(file, mode):
            "the API key file \(file) is readable by others (mode \(String(mode, radix: 8))); refusing it: chmod 600 \(file)"
        case .notOwned(let file): "the API key file \(file) belongs to another user"
        case .unsetVariable(let name): "the variable \(name) is not set"
        case .none: "no API key: LLAMA_CLOUD_API_KEY is not set"
        }
    }
}
