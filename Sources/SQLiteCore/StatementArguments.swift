/// The values bound to a statement's parameters 1, 2, … in order: one type
/// for every verb, so that a statement from `prepare(_:)` and one from
/// `cached(_:)` run the same way (`statement.execute(["a", 1])`).
public struct StatementArguments: ExpressibleByArrayLiteral {
    public var values: [any SQLBindable]

    public init(_ values: [any SQLBindable]) { self.values = values }
    public init(arrayLiteral values: any SQLBindable...) { self.values = values }

    public var isEmpty: Bool { values.isEmpty }
}
