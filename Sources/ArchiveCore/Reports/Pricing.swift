import Foundation
import LosslessJSON

/// Token prices in USD per million tokens, which may change over time and
/// differ per project. A run is priced by the rate of its project (else the
/// rate without a project) with the latest `from` not after the run.
public struct Pricing: Sendable, Equatable {
    public struct Rate: Sendable, Equatable {
        public var from: RateStart?   // nil: since always
        public var project: String?   // nil: any project without a rate of its own
        public var input: Double
        public var output: Double
    }

    /// In the order the file gives them.
    public let rates: [Rate]

    public init(rates: [Rate]) {
        self.rates = rates
    }

    public static func flat(input: Double, output: Double) -> Pricing {
        Pricing(rates: [Rate(from: nil, project: nil, input: input, output: output)])
    }

    /// The rates with their start as epoch seconds in `zone`, latest first
    /// (in file order among equal starts).
    public func latestFirst(in zone: TimeZone) -> [(rate: Rate, start: Int64)] {
        let starts = rates.map { $0.from?.seconds(in: zone) ?? Int64.min }
        return rates.indices.sorted { (starts[$0], -$0) > (starts[$1], -$1) }.map { (rates[$0], starts[$0]) }
    }

    /// A lookup for many runs (epoch seconds), with local dates and times
    /// read in `zone`: starts computed once.
    public func resolver(zone: TimeZone) -> (String?, Int64) -> Rate? {
        let ordered = latestFirst(in: zone)
        return { project, seconds in
            if let project, let found = ordered.first(where: { $0.rate.project.sameBytes(as: project) && $0.start <= seconds }) {
                return found.rate
            }
            return ordered.first { $0.rate.project == nil && $0.start <= seconds }?.rate
        }
    }

    public var hasProjectRates: Bool { rates.contains { $0.project != nil } }
}
