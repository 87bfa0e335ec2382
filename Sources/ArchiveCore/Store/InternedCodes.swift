import LosslessJSON

/// Codes of interned text (event types, event layouts) known to this
/// connection: those committed, those of the batch in progress, and those of
/// the session being written, which join the others only once their
/// transaction commits (a rollback must not leave a code that is not there).
struct InternedCodes<Key: Hashable> {
    private var committed: [Key: Int64] = [:]
    private var batch: [Key: Int64] = [:]
    private var pending: [Key: Int64] = [:]

    subscript(key: Key) -> Int64? { committed[key] ?? batch[key] ?? pending[key] }

    mutating func add(_ key: Key, code: Int64) { pending[key] = code }

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

/// An event's type and layout, the key of its code in `event_types`.
struct EventShape: Hashable {
    let type: ExactText?
    let layout: ExactText?
}
