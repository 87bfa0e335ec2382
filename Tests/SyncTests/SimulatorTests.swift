import ChatSimulator
import Foundation
import LosslessJSON
import Testing

@Suite struct SimulatorTests {
    /// The simulator's clock moves by whole minutes plus any microsecond, so
    /// that tests, the demo and the benchmarks meet fractional seconds as the
    /// API sends them (a comment once swallowed the fraction).
    @Test func timestampsCarryFractionsOfASecond() throws {
        let service = SimulatedChatService(apiKey: "k", seed: 7)
        let ids = service.populate(project: nil, count: 40)
        let times = ids.compactMap { service.session($0)?["last_updated_at"]?.stringValue }
        #expect(times.count == 40)
        let fractions = times.compactMap { time -> Int? in
            guard let dot = time.firstIndex(of: ".") else { return nil }
            return Int(time[time.index(after: dot)...].prefix { $0.isNumber })
        }
        // Every format but one writes a fraction; the fractions are not all zero.
        #expect(fractions.count >= 30)
        #expect(fractions.filter { $0 != 0 }.count >= 25, "\(times)")
    }
}
