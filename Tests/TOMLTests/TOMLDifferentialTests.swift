import Foundation
import Testing
@testable import TOML

/// Our reader against Python's `tomllib`, a conforming TOML 1.0 reader: the
/// corpus in `Tests/TOMLCorpus` (valid and invalid documents), then thousands
/// of documents made from it by seeded mutations.
@Suite struct TOMLDifferentialTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TOMLCorpus")

    static func documents(in folder: String) throws -> [(name: String, bytes: [UInt8])] {
        let url = corpus.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".toml") }.sorted().map { name in
            (name, Array(try Data(contentsOf: url.appendingPathComponent(name))))
        }
    }

    @Test func theCorpusIsReadAsTomllibReadsIt() throws {
        let valid = try Self.documents(in: "valid"), invalid = try Self.documents(in: "invalid")
        #expect(valid.count >= 60 && invalid.count >= 80)
        let all = valid + invalid
        let outcomes = try PythonTOML.outcomes(all.map(\.bytes))
        for (index, (document, outcome)) in zip(all, outcomes).enumerated() {
            let shouldRead = index < valid.count
            if case .value = outcome {
                #expect(shouldRead, "tomllib reads \(document.name), filed as invalid")
            } else {
                #expect(!shouldRead, "tomllib refuses \(document.name), filed as valid")
            }
            if let disagreement = PythonTOML.disagreement(document.bytes, outcome) {
                Issue.record("\(document.name): \(disagreement)")
            }
        }
    }

    @Test func mutatedDocumentsAreReadAsTomllibReadsThem() throws {
        let seeds = try Self.documents(in: "valid").map(\.bytes) + Self.documents(in: "invalid").map(\.bytes)
        var random = SplitMix64(seed: 26)
        var mutants: [[UInt8]] = []
        for _ in 0..<6_000 {
            var bytes = seeds[random.below(seeds.count)]
            for _ in 0...random.below(3) { Mutation.apply(to: &bytes, donor: seeds[random.below(seeds.count)], random: &random) }
            mutants.append(bytes)
        }
        let outcomes = try PythonTOML.outcomes(mutants)
        var read = 0, disagreements = 0
        for (bytes, outcome) in zip(mutants, outcomes) {
            if case .value = outcome { read += 1 }
            guard let disagreement = PythonTOML.disagreement(bytes, outcome) else { continue }
            disagreements += 1
            if disagreements <= 10 { Issue.record("\(String(decoding: bytes, as: UTF8.self).debugDescription): \(disagreement)") }
        }
        #expect(disagreements == 0)
        // Both kinds are well represented: the mutations neither always break nor never break a document.
        #expect(read > 1_000 && read < 5_000, "\(read) of 6000 read")
    }

    @Test func anIntegerBeyond64BitsIsRefusedAsTheSpecificationSays() {
        for text in ["a = 9223372036854775808", "a = -9223372036854775809", "a = 0x8000000000000000", "a = 99999999999999999999"] {
            #expect(throws: TOMLError.self) { try TOMLReader.parse(text) }
        }
        #expect(throws: TOMLError(line: 2, message: "the integer 9223372036854775808 does not fit in 64 bits")) {
            try TOMLReader.parse("ok = 1\na = 9223372036854775808\n")
        }
    }

    @Test func nestingDeeperThanTheLimitIsAnErrorNotACrash() throws {
        let deep = "a = " + String(repeating: "[", count: 100_000)
        #expect(throws: TOMLError(line: 1, message: "arrays and inline tables nest deeper than 256")) { try TOMLReader.parse(deep) }
        let inline = "a = " + String(repeating: "{b = ", count: 300)
        #expect(throws: TOMLError.self) { try TOMLReader.parse(inline) }
        let fine = "a = " + String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        _ = try TOMLReader.parse(fine)
    }
}

/// Small edits that turn a document into a near neighbour: most break it in
/// one place, some leave it valid with other values.
enum Mutation {
    static let alphabet = Array("\"'[]{}.,=#\n\r\t _-+:0123456789eExobTZz\\ ".utf8) + [0x7F, 0x01, 0xC3, 0xA9]

    static func apply(to bytes: inout [UInt8], donor: [UInt8], random: inout SplitMix64) {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        switch random.below(7) {
        case 0 where !bytes.isEmpty: bytes.remove(at: random.below(bytes.count))
        case 1: bytes.insert(alphabet[random.below(alphabet.count)], at: random.below(bytes.count + 1))
        case 2 where !bytes.isEmpty: bytes[random.below(bytes.count)] = alphabet[random.below(alphabet.count)]
        case 3:
            var copy = lines
            copy.insert(lines[random.below(lines.count)], at: random.below(lines.count + 1))
            bytes = Array(copy.joined(separator: [0x0A]))
        case 4:
            var copy = lines
            copy.swapAt(random.below(lines.count), random.below(lines.count))
            bytes = Array(copy.joined(separator: [0x0A]))
        case 5:
            let others = donor.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            var copy = lines
            copy.insert(others[random.below(others.count)], at: random.below(lines.count + 1))
            bytes = Array(copy.joined(separator: [0x0A]))
        default:
            let start = random.below(bytes.count + 1)
            bytes.replaceSubrange(start..<min(bytes.count, start + random.below(4)), with: [])
        }
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
}
