import LosslessJSON

/// Rebuilds the JSON the API sent from what the archive stores, members in
/// the order they came.
enum SessionJSON {
    /// The event object. Without a layout: its column fields (those present),
    /// then its payload's members. With one: one member per letter, `t c i n`
    /// the columns and `p` the payload's next member.
    static func event(type: String?, content: String?, callID: String?, name: String?, payload: String?,
                      layout: String?, into writer: inout JSONWriter) {
        let columns: [(key: String, value: String?)] = [("type", type), ("content", content), ("call_id", callID), ("name", name)]
        guard let layout, let members = payload.map({ (try? JSONParser.parse($0))?.objectValue?.members ?? [] }) ?? [] as [(key: String, value: JSONValue)]?
        else {
            writer.writeRaw("{")
            var first = true
            for (key, value) in columns {
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
            return
        }
        writer.writeRaw("{")
        var next = 0
        for (index, letter) in layout.utf8.enumerated() {
            if index > 0 { writer.writeRaw(",") }
            let column: Int? = switch letter {
            case UInt8(ascii: "t"): 0
            case UInt8(ascii: "c"): 1
            case UInt8(ascii: "i"): 2
            case UInt8(ascii: "n"): 3
            default: nil
            }
            if let column, let value = columns[column].value {
                writer.writeString(columns[column].key)
                writer.writeRaw(":")
                writer.writeString(value)
            } else if next < members.count {
                writer.writeString(members[next].key)
                writer.writeRaw(":")
                writer.write(members[next].value)
                next += 1
            }
        }
        writer.writeRaw("}")
    }

    /// The session object: `meta` (the session as sent, with `"events":[]`
    /// where its events stood, `null` if they were null, nothing if there
    /// were none) with the events written in place.
    static func session(meta: String, writeEvents: (inout JSONWriter) throws -> Void) rethrows -> String {
        var writer = JSONWriter(reservingCapacity: 4096)
        guard let members = (try? JSONParser.parse(meta))?.objectValue?.members else {
            writer.writeRaw(meta)
            return writer.string
        }
        writer.writeRaw("{")
        var placed = false
        for (index, member) in members.enumerated() {
            if index > 0 { writer.writeRaw(",") }
            writer.writeString(member.key)
            writer.writeRaw(":")
            if !placed, member.key == "events", case .array = member.value {
                placed = true
                writer.writeRaw("[")
                try writeEvents(&writer)
                writer.writeRaw("]")
            } else {
                writer.write(member.value)
            }
        }
        writer.writeRaw("}")
        return writer.string
    }
}
