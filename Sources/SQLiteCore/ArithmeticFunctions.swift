import CSQLite

/// Sums that cannot raise. SQLite's `sum()` fails a whole statement with
/// "integer overflow" once integers pass 2^63; numbers in an archive come
/// from outside, so every connection has two sums of its own:
///
/// - `saturating_sum(x)` stops at the largest (or smallest) 64-bit integer,
///   as the writer's own additions do;
/// - `wrapping_sum(x)` adds modulo 2^64, as running sums do (the difference
///   of two is exact whenever the span's own sum fits): it also works as a
///   window function, `wrapping_sum(x) OVER (...)`.
///
/// Both skip NULLs and give NULL over no value, as `sum()` does. A REAL is
/// taken as the nearest integer within range.
enum ArithmeticFunctions {
    struct State {
        var total: Int64
        var count: Int64
    }

    static func register(on connection: OpaquePointer) -> Int32 {
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS
        var code = sqlite3_create_function_v2(connection, "saturating_sum", 1, flags, nil, nil, { context, _, arguments in
            guard let state = ArithmeticFunctions.state(context), let value = arguments?[0],
                  sqlite3_value_type(value) != SQLITE_NULL else { return }
            let (sum, overflow) = state.pointee.total.addingReportingOverflow(ArithmeticFunctions.integer(value))
            state.pointee.total = overflow ? (sum < 0 ? .max : .min) : sum
            state.pointee.count += 1
        }, { context in ArithmeticFunctions.result(context) }, nil)
        guard code == SQLITE_OK else { return code }
        code = sqlite3_create_window_function(connection, "wrapping_sum", 1, flags, nil, { context, _, arguments in
            guard let state = ArithmeticFunctions.state(context), let value = arguments?[0],
                  sqlite3_value_type(value) != SQLITE_NULL else { return }
            state.pointee.total &+= ArithmeticFunctions.integer(value)
            state.pointee.count += 1
        }, { context in ArithmeticFunctions.result(context) }, { context in ArithmeticFunctions.result(context) }, { context, _, arguments in
            guard let state = ArithmeticFunctions.state(context), let value = arguments?[0],
                  sqlite3_value_type(value) != SQLITE_NULL else { return }
            state.pointee.total &-= ArithmeticFunctions.integer(value)
            state.pointee.count -= 1
        }, nil)
        return code
    }

    static func state(_ context: OpaquePointer?) -> UnsafeMutablePointer<State>? {
        sqlite3_aggregate_context(context, Int32(MemoryLayout<State>.stride))?.assumingMemoryBound(to: State.self)
    }

    static func integer(_ value: OpaquePointer) -> Int64 {
        guard sqlite3_value_numeric_type(value) == SQLITE_FLOAT else { return sqlite3_value_int64(value) }
        let real = sqlite3_value_double(value)
        if real.isNaN { return 0 }
        if real >= 9_223_372_036_854_775_807.0 { return .max }
        if real <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(real.rounded())
    }

    /// The total so far, or NULL when no value was added. Asking for the
    /// state with size 0 allocates none where no row came.
    static func result(_ context: OpaquePointer?) {
        guard let raw = sqlite3_aggregate_context(context, 0) else { return sqlite3_result_null(context) }
        let state = raw.assumingMemoryBound(to: State.self)
        if state.pointee.count == 0 { return sqlite3_result_null(context) }
        sqlite3_result_int64(context, state.pointee.total)
    }
}
