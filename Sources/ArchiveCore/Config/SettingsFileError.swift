/// A config or pricing file that cannot be used: which, where, and why.
public enum SettingsFileError: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case config = "config file", pricing = "pricing file" }

    case unreadable(path: String, kind: Kind)
    /// A fault at a line; without one (a JSON pricing file), `place` says
    /// which part (`rate 2`), or the file as a whole when nil.
    case fault(path: String, line: Int?, place: String?, message: String)
    /// A key named like a secret (`api_key`, `token`): refused, its value never read or shown.
    case secret(path: String, line: Int, key: String)

    public var description: String {
        switch self {
        case let .unreadable(path, kind): "cannot read the \(kind.rawValue) \(path)"
        case let .fault(path, line?, _, message): "\(path):\(line): \(message)"
        case let .fault(path, nil, place?, message): "\(path): \(place): \(message)"
        case let .fault(path, nil, nil, message): "\(path): \(message)"
        case let .secret(path, line, key):
            "\(path):\(line): \(key): an API key is not read from the config file; remove it from this file and set LLAMA_CLOUD_API_KEY"
        }
    }
}
