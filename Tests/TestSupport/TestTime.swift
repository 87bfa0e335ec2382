import Foundation

/// Bounds on wall time in tests, stretched by `TEST_TIME_SCALE` when the
/// suite runs under a sanitizer (`scripts/sanitize`), which slows every
/// process several times over.
public enum TestTime {
    public static let scale: Double = ProcessInfo.processInfo.environment["TEST_TIME_SCALE"].flatMap(Double.init) ?? 1

    public static func seconds(_ value: Double) -> Double { value * scale }

    /// Under a sanitizer its shadow memory and quarantine are most of a
    /// process's memory: memory bounds say nothing there.
    public static let underSanitizer = ProcessInfo.processInfo.environment["TEST_SANITIZER"] != nil
}
