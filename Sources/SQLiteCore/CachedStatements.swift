extension Database {
    /// The calls of `Database` through its statement cache, chosen for fixed
    /// SQL run many times: `database.cached.execute(…)`.
    public var cached: CachedStatements { CachedStatements(database: self) }
}

public struct CachedStatements {
    let database: Database

    public func execute(_ sql: String, _ values: any SQLBindable...) throws {
        let statement = try database.cachedStatement(sql)
        try statement.run(values) { while try statement.step() {} }
    }

    public func first<T>(_ sql: String, _ values: any SQLBindable..., map: (Row) throws -> T) throws -> T? {
        let statement = try database.cachedStatement(sql)
        return try statement.run(values) { try statement.step() ? map(Row(statement: statement)) : nil }
    }

    public func forEachRow(_ sql: String, _ values: any SQLBindable..., body: (Row) throws -> Void) throws {
        let statement = try database.cachedStatement(sql)
        try statement.run(values) {
            let row = Row(statement: statement)
            while try statement.step() { try body(row) }
        }
    }

    public func scalar<T: SQLReadable>(_ sql: String, _ values: any SQLBindable..., as type: T.Type = T.self) throws -> T? {
        let statement = try database.cachedStatement(sql)
        return try statement.run(values) { try statement.step() ? Row(statement: statement).get(0, as: T.self) : nil }
    }
}
