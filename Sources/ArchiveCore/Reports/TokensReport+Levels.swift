import Foundation
import LosslessJSON
import SQLiteCore

/// Token reports from the rollup levels (`usage_levels`): the window is cut
/// where a bucket, a zone offset or a price changes, and each span between
/// cuts is read as a difference of running sums, per scope. The cost grows
/// with the buckets printed and the scopes asked for, not with the archive.
extension TokensReport {
    /// The levels cannot tell which days a run without a price fell on (the
    /// warning names them): the quarter hours can.
    struct LevelsCannotAnswerError: Error {}

    /// What one scope of `usage_levels` stands for.
    struct LevelScope {
        let code: Int64
        let project: String
        let indexIDs: String
        /// The source's name ('' where the scope is every session).
        var source = ""
    }

    func gatherFromLevels(_ database: Database, range: Range<Int64>, into tally: inout Tally) throws {
        var keys = KeyMaker(report: self)
        let rateFor = pricing?.resolver(zone: window.zone)
        let (groups, allowedGroups) = try allowedRollupGroups(database)
        let segments = try Self.segments(database, range: range, zone: window.zone, pricing: pricing)
        guard !segments.isEmpty else { return }
        let scopes = try levelScopes(database, groups: groups)
        let (cuts, pieces) = self.cuts(segments: segments, keys: keys)
        for scope in scopes {
            let sums = try RollupLevels.usage.spans(scope: scope.code, cuts: cuts, in: database)
            let project: String? = scope.project.isEmpty ? nil : scope.project
            var rate: Pricing.Rate?
            var rateSegment = -1
            for (span, piece) in zip(sums, pieces) where span[0] != 0 {
                if piece.segment != rateSegment {
                    rate = rateFor?(project, segments[piece.segment].from * 900)
                    rateSegment = piece.segment
                }
                if rate == nil && pricing != nil && span[2] > 0 { throw LevelsCannotAnswerError() }
                let runs = Int(span[0]), errorRuns = Int(span[1]), withTokens = Int(span[2]), newSessions = Int(span[5])
                for key in keys.keys(localDay: piece.localDay, project: scope.project, indexIDs: scope.indexIDs, session: nil, source: scope.source) {
                    tally.buckets[key, default: Bucket()].add(runs: runs, errorRuns: errorRuns, runsWithTokens: withTokens,
                                                             input: span[3], output: span[4], rate: rate)
                    tally.buckets[key]!.sessions += newSessions
                }
                tally.totals.add(runs: runs, errorRuns: errorRuns, runsWithTokens: withTokens, input: span[3], output: span[4], rate: rate)
                tally.totals.sessions += newSessions
            }
        }
        try gatherReturns(database, range: range, groups: groups, allowed: allowedGroups, keys: &keys, into: &tally)
    }

    func isAllowed(_ project: String) -> Bool { TimeWindow.allows(projects, project) }

    /// Whether a session with this index set (its JSON array as stored, '' when
    /// unbound) is bound to one of `indexes`.
    func isBound(indexIDs: String) -> Bool {
        let bound = (try? JSONParser.parse(indexIDs))?.arrayValue?.compactMap(\.stringValue) ?? []
        return bound.contains { id in indexes.contains { $0.sameBytes(as: id) } }
    }

    /// Whether a group's sessions are in the report: its source, project and (when asked) its indexes.
    func isAllowed(_ group: RollupGroupInfo) -> Bool {
        TimeWindow.allows(sources, group.source) && isAllowed(group.project) && (indexes.isEmpty || isBound(indexIDs: group.indexIDs))
    }

    static func rollupGroups(_ database: Database) throws -> [Int: RollupGroupInfo] {
        var groups: [Int: RollupGroupInfo] = [:]
        try database.forEachRow("SELECT group_id, project_id, index_ids, \(SourceSQL.name("g.source_key")) FROM rollup_groups g") { row in
            groups[try row.int(0)] = RollupGroupInfo(project: try row.string(1), indexIDs: try row.string(2), source: try row.string(3))
        }
        return groups
    }

    /// The coarsest scopes that answer: groups when split by index, projects
    /// when split or filtered by project or priced per project, else one
    /// scope of every session.
    func levelScopes(_ database: Database, groups: [Int: RollupGroupInfo]) throws -> [LevelScope] {
        if groupings.contains(.index) || !indexes.isEmpty {
            return groups.filter { isAllowed($0.value) }.map {
                LevelScope(code: Int64($0.key), project: $0.value.project, indexIDs: $0.value.indexIDs, source: $0.value.source)
            }
        }
        guard groupings.contains(.project) || !projects.isEmpty || pricing?.hasProjectRates == true else {
            guard groupings.contains(.source) || !sources.isEmpty else { return [LevelScope(code: 0, project: "", indexIDs: "")] }
            return try Self.sourceScopes(database).filter { TimeWindow.allows(sources, $0.source) }
        }
        var scopes: [LevelScope] = []
        try database.forEachRow("SELECT project_code, project_id, \(SourceSQL.name("p.source_key")) FROM rollup_projects p") { row in
            let project = try row.string(1), source = try row.string(2)
            if isAllowed(project) && TimeWindow.allows(sources, source) {
                scopes.append(LevelScope(code: -(try row.int64(0)), project: project, indexIDs: "", source: source))
            }
        }
        return scopes
    }

    /// Every source's scope of `usage_levels`.
    static func sourceScopes(_ database: Database) throws -> [LevelScope] {
        var scopes: [LevelScope] = []
        try database.forEachRow("SELECT source_key, name FROM sources") { row in
            scopes.append(LevelScope(code: RollupLevels.sourceScope(SourceKey(rawValue: try row.int64(0))), project: "", indexIDs: "",
                                     source: try row.string(1)))
        }
        return scopes
    }

    /// Where the window is cut (quarter hours, ascending, the last one its
    /// end) and, for the span after each cut but the last, its segment and
    /// local day: at each segment's start, and at each local midnight where
    /// the time key changes.
    func cuts(segments: [(from: Int64, to: Int64, offset: Int64)], keys: KeyMaker) -> (cuts: [Int64], pieces: [(segment: Int, localDay: Int)]) {
        var cuts: [Int64] = [], pieces: [(segment: Int, localDay: Int)] = []
        let timeGrouping = groupings.first(where: \.isTime)
        for (index, segment) in segments.enumerated() {
            var day = Int((segment.from + segment.offset).floorDivided(by: RollupLevels.quarterHoursPerDay))
            cuts.append(segment.from)
            pieces.append((index, day))
            guard let timeGrouping else { continue }
            var key = keys.timeKey(localDay: day, timeGrouping)
            while true {
                day += 1
                let midnight = Int64(day) * RollupLevels.quarterHoursPerDay - segment.offset
                if midnight >= segment.to { break }
                let next = keys.timeKey(localDay: day, timeGrouping)
                guard next != key else { continue }
                key = next
                cuts.append(midnight)
                pieces.append((index, day))
            }
        }
        if let last = segments.last { cuts.append(last.to) }
        return (cuts, pieces)
    }
}

/// What a `rollup_groups` group stands for: a project and index set of a source (by name).
struct RollupGroupInfo {
    let project: String
    let indexIDs: String
    let source: String
}
