import LosslessJSON

/// A tool_call paired with the first later tool_result of the same call_id
/// that no earlier call took.
public struct ToolCallLink: Sendable, Equatable {
    public let callSeq: Int
    public var resultSeq: Int?
    public var errorResult: Bool
}

/// Sums over a session's stop events, for its row in `sessions`.
public struct RunTotals: Sendable, Equatable {
    public var runs = 0, errorRuns = 0
    public var inputTokens: Int64 = 0, outputTokens: Int64 = 0
}

/// A session's events, normalised. Either held as values (an import, whose
/// sessions are small and whose search tokens are made ahead), or read again
/// one at a time from the response they came in (a sync): then a history of
/// millions of tiny events costs its bytes and little more.
public struct SessionEvents: Sequence, Sendable {
    enum Storage: Sendable {
        case values([NormalizedEvent])
        /// The response, where its `events` array lies, and the content refs of linked deltas by seq.
        case response(JSONArrayElements, contentRefs: [(seq: Int, ref: Int64)])
    }

    let storage: Storage
    public let count: Int
    public let totals: RunTotals
    public let toolCallLinks: [ToolCallLink]
    /// Its stop events' numbers kept only as sent, and totals that saturated.
    public var numberFaults = NumberFaults()

    public struct Iterator: IteratorProtocol {
        enum Source {
            case values(IndexingIterator<[NormalizedEvent]>)
            case response(JSONArrayElements.Iterator, contentRefs: [(seq: Int, ref: Int64)])
        }
        var source: Source
        var seq = 0
        var userInputs = 0
        var nextRef = 0

        public mutating func next() -> NormalizedEvent? {
            switch source {
            case .values(var iterator):
                defer { source = .values(iterator) }
                return iterator.next()
            case .response(var elements, let refs):
                guard let value = elements.next() else { return nil }
                source = .response(elements, contentRefs: refs)
                var event = Normalizer.normalizeEvent(value.objectValue ?? JSONObject(), seq: seq, userInputsBefore: &userInputs)
                if nextRef < refs.count, refs[nextRef].seq == seq {
                    event.contentRef = refs[nextRef].ref
                    nextRef += 1
                }
                seq += 1
                return event
            }
        }
    }

    public func makeIterator() -> Iterator {
        switch storage {
        case .values(let events): return Iterator(source: .values(events.makeIterator()))
        case let .response(elements, refs): return Iterator(source: .response(elements.makeIterator(), contentRefs: refs))
        }
    }
}

/// What a session's events add up to, taken one event at a time: run totals,
/// tool call pairing, and which streamed deltas are slices of the block that
/// completes them. The one rule for all three, for both kinds of storage.
struct EventAccumulator {
    private(set) var count = 0
    private(set) var totals = RunTotals()
    private(set) var toolCallLinks: [ToolCallLink] = []
    /// (delta seq, ref) for each delta stored as a slice of its block, in no particular order.
    private(set) var contentRefs: [(seq: Int, ref: Int64)] = []  // ContentRef raw values
    private(set) var numberFaults = NumberFaults()
    private var saturated: (input: Bool, output: Bool) = (false, false)
    private var userInputs = 0
    private var openCalls: [ExactText: [Int]] = [:]  // call_id -> indexes into toolCallLinks awaiting a result
    private var pendingDeltas: [ExactText: PendingDeltas] = [:]  // delta kind -> since its last block

    private struct PendingDeltas {
        var pieces: [(seq: Int, length: Int)] = []
        var bytes: [UInt8] = []
    }

    /// Normalises the next event and takes account of it.
    mutating func add(_ fields: JSONObject) -> NormalizedEvent {
        let event = Normalizer.normalizeEvent(fields, seq: count, userInputsBefore: &userInputs)
        count += 1
        if let usage = event.usage {
            totals.runs += 1
            if usage.isError { totals.errorRuns += 1 }
            numberFaults.add(usage.numberFaults)
            totals.inputTokens = totals.inputTokens.saturatingAdd(usage.inputTokens ?? 0)
            totals.outputTokens = totals.outputTokens.saturatingAdd(usage.outputTokens ?? 0)
            if totals.inputTokens == .max && !saturated.input {
                saturated.input = true
                numberFaults.note("the session's input tokens pass 2^63-1 by event \(event.seq) (its total stops there)")
            }
            if totals.outputTokens == .max && !saturated.output {
                saturated.output = true
                numberFaults.note("the session's output tokens pass 2^63-1 by event \(event.seq) (its total stops there)")
            }
        }
        switch event.kind {
        case "tool_call":
            toolCallLinks.append(ToolCallLink(callSeq: event.seq, resultSeq: nil, errorResult: false))
            if let callID = event.callID { openCalls[ExactText(callID), default: []].append(toolCallLinks.count - 1) }
        case "tool_result":
            if let callID = event.callID.map(ExactText.init(_:)), var waiting = openCalls[callID], !waiting.isEmpty {
                let index = waiting.removeFirst()
                toolCallLinks[index].resultSeq = event.seq
                toolCallLinks[index].errorResult = event.errorResult
                openCalls[callID] = waiting.isEmpty ? nil : waiting
            }
        case "user_input":
            pendingDeltas.removeAll()
        case "text_delta", "thinking_delta":
            if let content = event.content {
                pendingDeltas[ExactText(event.kind), default: PendingDeltas()].pieces.append((event.seq, content.utf8.count))
                pendingDeltas[ExactText(event.kind)]!.bytes.append(contentsOf: content.utf8)
            }
        case "text", "thinking":
            if let pending = pendingDeltas.removeValue(forKey: ExactText(event.kind + "_delta")), let block = event.content {
                link(pending, to: block, blockSeq: event.seq)
            }
        default:
            break
        }
        return event
    }

    /// Streamed deltas repeat the block that completes them: when the deltas
    /// since the last block (or run start) join up to exactly the block's
    /// text, each delta is stored as a slice of it,
    /// `(block seq << 40) | (byte offset << 20) | byte length`. An empty delta
    /// keeps its own (empty) text: a slice of length 0 would read back as NULL.
    private mutating func link(_ pending: PendingDeltas, to block: String, blockSeq: Int) {
        guard !pending.pieces.isEmpty, pending.bytes.elementsEqual(block.utf8) else { return }
        var offset = 0
        var refs: [(seq: Int, ref: Int64)] = []
        for piece in pending.pieces {
            guard let ref = ContentRef(blockSeq: blockSeq, offset: offset, length: piece.length) else { return }
            if piece.length > 0 { refs.append((piece.seq, ref.rawValue)) }
            offset += piece.length
        }
        contentRefs += refs
    }
}
