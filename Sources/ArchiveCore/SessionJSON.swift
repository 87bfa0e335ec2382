import LosslessJSON

/// Rebuilds the JSON the API sent from what the archive stores.
enum SessionJSON {
    /// The event object: its column fields (those present) and then its payload's members.
    static func event(type: String?, content: String?, callID: String?, name: String?, payload: String?,
                      into writer: inout JSONWriter) {
        writer.writeRaw("{")
        var first = true
        for (key, value) in [("type", type), ("content", content), ("call_id", callID), ("name", name)] {
            guard let value else { continue }
            if !first { writer.writeRaw(",") }
            first = false
            writer.writeString(key)
            writer.writeRaw(":")
            writer.writeString(value)
        }
        if let payload, payload.utf8.count > 2 {
            if !first { writer.writeRaw(",") }
            writer.writeRaw(payload.utf8.dropFirst().dropLast())
        }
        writer.writeRaw("}")
    }

    /// The session object: `meta` (the session without events) with `events` appended.
    static func session(meta: String, writeEvents: (inout JSONWriter) throws -> Void) rethrows -> String {
        var writer = JSONWriter(reservingCapacity: 4096)
        writer.writeRaw(meta.utf8.dropLast())
        if meta.utf8.count > 2 { writer.writeRaw(",") }
        writer.writeRaw("\"events\":[")
        try writeEvents(&writer)
        writer.writeRaw("]}")
        return writer.string
    }
}
