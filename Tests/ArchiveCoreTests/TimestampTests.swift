import Testing
@_spi(Testing) @testable import ArchiveCore

@Suite struct TimestampTests {
    /// Day labels, made without Foundation's formatter, read as `%04d-%02d-%02d` did, BC years too.
    @Test func dayLabelsAreZeroPaddedAsPrintfPadsThem() {
        for days in stride(from: -1_200_000, through: 3_000_000, by: 997) {
            let (y, m, d) = Timestamp.civilFromDays(days)
            #expect(Timestamp.dayLabel(days) == String(format: "%04d-%02d-%02d", y, m, d))
        }
    }

    @Test(arguments: [
        ("2026-04-22T12:34:41.342245", "2026-04-22T12:34:41.342245Z"),
        ("2026-04-22T12:34:41.342245+00:00", "2026-04-22T12:34:41.342245Z"),
        ("2026-04-22T12:34:41.342245Z", "2026-04-22T12:34:41.342245Z"),
        ("2026-04-22T12:34:41Z", "2026-04-22T12:34:41.000000Z"),
        ("2026-04-22 12:34:41.5", "2026-04-22T12:34:41.500000Z"),
        ("2026-04-22T12:34:41.123456789Z", "2026-04-22T12:34:41.123456Z"),
        ("2026-04-22T01:00:00+02:00", "2026-04-21T23:00:00.000000Z"),
        ("2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00.000000Z"),
        ("2024-02-29T00:00:00+0530", "2024-02-28T18:30:00.000000Z"),
        ("2026-04-22", "2026-04-22T00:00:00.000000Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500000Z"),
    ])
    func normalisesEveryFormatTheAPISends(_ input: String, _ expected: String) {
        #expect(Timestamp.normalize(input) == expected)
    }

    @Test(arguments: ["", "yesterday", "2026-13-01T00:00:00", "2026-02-30T00:00:00", "2026-04-22T25:00:00",
                      "2026-04-22T12:34:41.", "2026-04-22T12:34:41Zjunk"])
    func refusesWhatIsNotATime(_ input: String) {
        #expect(Timestamp.normalize(input) == nil)
    }
}
