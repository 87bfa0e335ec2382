import Foundation
import LosslessJSON
import SQLiteCore

/// Token reports from the rollups: the cost grows with the quarter hours
/// and groups that hold runs, not with the runs.
extension TokensReport {
    /// The rollups' groups, and those the report's project, index and source
    /// filters allow (nil: every one).
    func allowedRollupGroups(_ database: Database) throws -> (groups: [Int: RollupGroupInfo], allowed: Set<Int>?) {
        let groups = try Self.rollupGroups(database)
        return (groups, projects.isEmpty && indexes.isEmpty && sources.isEmpty ? nil : Set(groups.filter { isAllowed($0.value) }.keys))
    }

    func gatherFromRollups(_ database: Database, range: Range<Int64>, into tally: inout Tally) throws {
        var keys = KeyMaker(report: self)
        let rateFor = pricing?.resolver(zone: window.zone)
        let (groups, allowed) = try allowedRollupGroups(database)
        // Rows come in quarter-hour order: the segment (zone offset and
        // prices fixed) only moves forward.
        let segments = try Self.segments(database, range: range, zone: window.zone, pricing: pricing)
        let timePosition = groupings.firstIndex(where: \.isTime)
        let timeGrouping = timePosition.map { groupings[$0] }
        // A bucket is a time key and the rest of the key (project, index).
        // Per group, the rest is worked out once, the rate once per segment
        // and the buckets once per time key: most rows touch only arrays.
        struct GroupState {
            var known = false
            var project = ""
            var rests: [Int] = []
            var rate: Pricing.Rate?
            var rateSegment = -1
            var slotTime = Int.min
            var slotBuckets: [Int] = []
        }
        var rests: [[KeyPart]] = []
        var restID: [[KeyPart]: Int] = [:]
        var state = [GroupState](repeating: GroupState(), count: (groups.keys.max() ?? 0) + 1)
        for (group, info) in groups where group >= 0 && (allowed?.contains(group) ?? true) {
            state[group].known = true
            state[group].project = info.project
            state[group].rests = keys.keys(localDay: 0, project: info.project, indexIDs: info.indexIDs, session: nil, source: info.source).map { key in
                if let id = restID[key] { return id }
                rests.append(key)
                restID[key] = rests.count - 1
                return rests.count - 1
            }
        }
        struct Slot: Hashable { let time: Int; let rest: Int }
        var bucketOfSlot: [Slot: Int] = [:]
        var slots: [Slot] = []
        var buckets: [Bucket] = []
        var segment = 0, lastDay = Int.min, time = 0
        let statement = try database.prepare("""
            SELECT quarter_hour, group_id, runs, error_runs, runs_with_tokens, input_tokens, output_tokens, new_sessions
            FROM usage_rollup WHERE quarter_hour >= ?1 AND quarter_hour < ?2
            """)
        try statement.forEachRow([range.lowerBound, range.upperBound]) { row in
            let quarterHour = try row.int64(0), group = try row.int(1)
            guard group >= 0, group < state.count, state[group].known else { return }
            while quarterHour >= segments[segment].to { segment += 1 }
            if let timeGrouping {
                let localDay = Int((quarterHour + segments[segment].offset).floorDivided(by: 96))
                if localDay != lastDay {
                    lastDay = localDay
                    time = keys.timeKey(localDay: localDay, timeGrouping)
                }
            }
            if state[group].rateSegment != segment {
                let project = state[group].project
                state[group].rate = rateFor?(project.isEmpty ? nil : project, segments[segment].from * 900)
                state[group].rateSegment = segment
            }
            if state[group].slotTime != time {
                state[group].slotBuckets = state[group].rests.map { rest in
                    let slot = Slot(time: time, rest: rest)
                    if let known = bucketOfSlot[slot] { return known }
                    buckets.append(Bucket())
                    slots.append(slot)
                    bucketOfSlot[slot] = buckets.count - 1
                    return buckets.count - 1
                }
                state[group].slotTime = time
            }
            let rate = state[group].rate
            let runs = try row.int(2), errorRuns = try row.int(3), withTokens = try row.int(4)
            let input = try row.int64(5), output = try row.int64(6), newSessions = try row.int(7)
            if rate == nil && withTokens > 0 && pricing != nil {
                let day = Int(quarterHour / 96)
                tally.noRate(project: state[group].project, days: day...day)
            }
            for index in state[group].slotBuckets {
                buckets[index].add(runs: runs, errorRuns: errorRuns, runsWithTokens: withTokens, input: input, output: output, rate: rate)
                buckets[index].sessions += newSessions
            }
            tally.totals.add(runs: runs, errorRuns: errorRuns, runsWithTokens: withTokens, input: input, output: output, rate: rate)
            tally.totals.sessions += newSessions
        }
        for (slot, bucket) in zip(slots, buckets) {
            var key = rests[slot.rest]
            if let timePosition { key[timePosition] = KeyPart(time: slot.time) }
            tally.buckets[key] = bucket
        }
        try gatherReturns(database, range: range, groups: groups, allowed: allowed, keys: &keys, into: &tally)
    }

    /// Spans of quarter hours in which the zone's offset and every price stay
    /// the same, covering the rollup rows of the window; empty when there are
    /// none. Offsets that are not whole quarter hours (local mean times of
    /// old dates) cannot be folded this way: those fail over to the rows.
    static func segments(_ database: Database, range: Range<Int64>, zone: TimeZone,
                         pricing: Pricing?) throws -> [(from: Int64, to: Int64, offset: Int64)] {
        // Two ends read from the key, each one row (min and max in one query read every row).
        guard let first = try database.scalar("""
            SELECT quarter_hour FROM usage_rollup WHERE quarter_hour >= ?1 AND quarter_hour < ?2 ORDER BY quarter_hour LIMIT 1
            """, range.lowerBound, range.upperBound, as: Int64.self),
              let last = try database.scalar("""
            SELECT quarter_hour FROM usage_rollup WHERE quarter_hour >= ?1 AND quarter_hour < ?2 ORDER BY quarter_hour DESC LIMIT 1
            """, range.lowerBound, range.upperBound, as: Int64.self) else { return [] }
        let start = first, end = last + 1
        var cuts = Set<Int64>([start, end])
        for rate in pricing?.rates ?? [] {
            guard let from = rate.from?.seconds(in: zone) else { continue }
            guard from % 900 == 0 else { throw SegmentError() }  // a price starting within a quarter hour: the rows tell
            let quarterHour = from / 900
            if quarterHour > start && quarterHour < end { cuts.insert(quarterHour) }
        }
        var instant = Date(timeIntervalSince1970: Double(start * 900))
        while let next = zone.nextDaylightSavingTimeTransition(after: instant), next.timeIntervalSince1970 < Double(end * 900) {
            let seconds = Int64(next.timeIntervalSince1970)
            guard seconds % 900 == 0 else { throw SegmentError() }
            cuts.insert(seconds / 900)
            instant = next
        }
        let sorted = cuts.sorted()
        return try zip(sorted, sorted.dropFirst()).map { from, to in
            let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(from * 900)))
            guard offset % 900 == 0 else { throw SegmentError() }
            return (from, to, Int64(offset / 900))
        }
    }

    struct SegmentError: Error {}

    func gatherReturns(_ database: Database, range: Range<Int64>, groups: [Int: RollupGroupInfo],
                       allowed: Set<Int>?, keys: inout KeyMaker, into tally: inout Tally) throws {
        // A session's later runs count it in a bucket its earlier ones are not in.
        try database.forEachRow("""
            SELECT quarter_hour, group_id, gap, sessions FROM session_returns WHERE quarter_hour >= ?1 AND quarter_hour < ?2
            """, range.lowerBound, range.upperBound) { row in
            let quarterHour = try row.int64(0), group = try row.int(1), gap = try row.int64(2), sessions = try row.int(3)
            guard let info = groups[group], allowed?.contains(group) ?? true else { return }
            if gap > quarterHour - range.lowerBound { tally.totals.sessions += sessions }
            let seconds = quarterHour * 900
            for key in keys.keys(seconds: seconds, project: info.project, indexIDs: info.indexIDs, session: nil, source: info.source) {
                let start = keys.bucketStart(key: key, seconds: seconds).map { $0 / 900 } ?? range.lowerBound
                if gap > quarterHour - max(start, range.lowerBound) { tally.buckets[key]?.sessions += sessions }
            }
        }
    }
}
