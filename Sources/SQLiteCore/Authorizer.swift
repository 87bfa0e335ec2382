import CSQLite

/// What SQLite asks an authorizer while it compiles a statement.
public struct AuthorizerRequest: Sendable {
    public let action: Int32
    public let argument1: String?
    public let argument2: String?
    public let databaseName: String?

    public static let select = SQLITE_SELECT
    public static let read = SQLITE_READ
    public static let function = SQLITE_FUNCTION
    public static let pragma = SQLITE_PRAGMA
    public static let recursive = SQLITE_RECURSIVE
}

public enum AuthorizerVerdict: Sendable {
    case allow
    /// Refuse the whole statement: preparing it fails with SQLITE_AUTH.
    case deny
}

final class AuthorizerBox {
    let decide: (AuthorizerRequest) -> AuthorizerVerdict
    init(_ decide: @escaping (AuthorizerRequest) -> AuthorizerVerdict) { self.decide = decide }
}

extension Database {
    /// Installs (or with nil removes) a callback that allows or denies each
    /// action of every statement prepared afterwards on this connection.
    public func setAuthorizer(_ decide: ((AuthorizerRequest) -> AuthorizerVerdict)?) {
        guard !isClosed else { return }
        statementCache.removeAll()  // statements compiled under the old rule must not be reused
        guard let decide else {
            sqlite3_set_authorizer(handle, nil, nil)
            authorizer = nil
            return
        }
        let box = AuthorizerBox(decide)
        authorizer = box
        sqlite3_set_authorizer(handle, { context, action, first, second, database, _ in
            let box = Unmanaged<AuthorizerBox>.fromOpaque(context!).takeUnretainedValue()
            let request = AuthorizerRequest(action: action, argument1: first.map { String(cString: $0) },
                                            argument2: second.map { String(cString: $0) },
                                            databaseName: database.map { String(cString: $0) })
            return box.decide(request) == .allow ? SQLITE_OK : SQLITE_DENY
        }, Unmanaged.passUnretained(box).toOpaque())
    }
}
