import LosslessJSON
import SQLiteCore

/// `archive redact --apply`: the redaction rules applied to what is already
/// archived, in one transaction. Each session is read back as exported,
/// redacted, and saved again through the one save path without keeping the
/// history it replaces; its revisions are redacted in place. Then the traces
/// are erased as `forget` erases them.
extension ArchiveWriter {
    public func redactArchived(with redactor: Redactor, at now: String) throws -> RemovalResult {
        var result = RemovalResult(action: .redact)
        guard !redactor.isEmpty else { return result }
        var ids: [(String, SourceKey)] = []
        try database.forEachRow("SELECT session_id, source_key FROM sessions ORDER BY session_key") {
            ids.append((try $0.string(0), SourceKey(rawValue: try $0.int64(1))))
        }
        var projects = Set<ExactText>()
        try batch {
            let revisions = try database.cached("SELECT revision, payload FROM session_revisions WHERE session_id = ? AND source_key = ?")
            let rewriteRevision = try database.cached(
                "UPDATE session_revisions SET payload = ? WHERE session_id = ? AND source_key = ? AND revision = ?")
            for (id, source) in ids {
                var matches = 0
                var changedRevisions: [(Int, String)] = []
                try revisions.forEachRow([id, source.rawValue]) { row in
                    let redacted = redactor.redact(try JSONParser.parse(row.string(1)))
                    if redacted.matches > 0 {
                        matches += redacted.matches
                        changedRevisions.append((try row.int(0), redacted.value.serialized))
                    }
                }
                for (revision, payload) in changedRevisions { try rewriteRevision.execute([payload, id, source.rawValue, revision]) }
                result.revisions += changedRevisions.count
                guard let json = try reader.sessionJSON(sessionID: id, source: source) else { continue }
                let redacted = redactor.redact(try JSONParser.parse(json))
                if redacted.matches > 0 {
                    let row = try database.cached("SELECT source_hash, project_id, event_count FROM sessions WHERE session_id = ? AND source_key = ?")
                        .first([id, source.rawValue]) { try ($0.value(0), $0.optionalString(1), $0.int(2)) }
                    let session = try Normalizer.normalize(redacted.value)
                    _ = try saveInTransaction(session, projectID: nil, organizationID: nil, source: source, now: now, keepingNewer: false,
                                              recordingRevision: false)
                    // The hash of the bytes last received stays: the same input, imported again, is still unchanged.
                    try database.cached("UPDATE sessions SET source_hash = ? WHERE session_id = ? AND source_key = ?")
                        .execute([row?.0 ?? .null, id, source.rawValue])
                    matches += redacted.matches
                    result.events += row?.2 ?? 0
                    projects.insert(ExactText(row?.1 ?? ""))
                }
                if matches > 0 {
                    try recordContentRemoval(sessionID: id, source: source, reason: "redact", at: now)
                    result.sessions += 1
                    result.matches += matches
                    result.sessionIDs.append(id)
                }
            }
            if result.sessions > 0 { try mergeSearchIndex(into: &result) }
        }
        result.projects = projects.count
        if result.sessions > 0 { try eraseTraces(into: &result) }
        return result
    }
}
