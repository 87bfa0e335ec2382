/// Codes of interned text (event types, event layouts) known to this
/// connection: those committed, those of the batch in progress, and those of
/// the session being written, which join the others only once their
/// transaction commits (a rollback must not leave a code that is not there).
struct InternedCodes {
    private var committed: [String: Int64] = [:]
    private var batch: [String: Int64] = [:]
    private var pending: [String: Int64] = [:]

    subscript(text: String) -> Int64? { committed[text] ?? batch[text] ?? pending[text] }

    mutating func add(_ text: String, code: Int64) { pending[text] = code }

    /// The session's transaction ended: committed on its own, or now part of a batch.
    mutating func sessionEnded(committed alone: Bool) {
        if alone { committed.merge(pending) { old, _ in old } } else { batch.merge(pending) { old, _ in old } }
        pending.removeAll()
    }

    mutating func sessionFailed() { pending.removeAll() }

    mutating func batchEnded(committed: Bool) {
        if committed { self.committed.merge(batch) { old, _ in old } }
        batch.removeAll()
    }
}
