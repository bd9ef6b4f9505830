import Foundation
import Testing
import UniversalInbox

/// The service report's arithmetic, apart from any database (the stores' reads are held to
/// `ReportContractTests`): medians and 90th percentiles, days and hours in the viewer's time zone,
/// and days across daylight-saving changes that are 23 and 25 hours long.
@Suite struct ServiceReportTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let tokyo = TimeZone(identifier: "Asia/Tokyo")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    static func day(_ y: Int, _ m: Int, _ d: Int) -> DateComponents { DateComponents(year: y, month: m, day: d) }
    /// Unix ms of an RFC 3339 date-time.
    static func ms(_ text: String) -> Int64 { RFC3339.dateTime(text)!.ms }

    static func ticket(_ id: Int64, opened: String, first: String? = nil, by responder: Int64? = nil, resolved: String? = nil, agent: Int64? = nil,
                       channel: String = "line") -> TicketTiming {
        TicketTiming(
            ticketId: id, openedAt: ms(opened), channel: channel, agentId: agent, firstResponseAt: first.map(ms), firstResponderId: responder,
            resolvedAt: resolved.map(ms))
    }

    @Test func medianAndNinetiethPercentileByNearestRank() {
        let ten = ServiceReport.Durations(ms: (1...10).map { Int64($0) * 1000 }.shuffled())
        #expect(ten.count == 10)
        #expect(ten.medianSeconds == 5.5)
        #expect(ten.p90Seconds == 9)
        let eleven = ServiceReport.Durations(ms: (1...11).map { Int64($0) * 1000 })
        #expect(eleven.medianSeconds == 6)
        #expect(eleven.p90Seconds == 10)  // rank ⌈9.9⌉ = 10
        let one = ServiceReport.Durations(ms: [2500])
        #expect(one.medianSeconds == 2.5 && one.p90Seconds == 2.5)
        let none = ServiceReport.Durations(ms: [])
        #expect(none.count == 0 && none.medianSeconds == nil && none.p90Seconds == nil)
    }

    @Test func daysAndHoursAreTheViewersOwn() throws {
        // 2026-11-02T20:30Z is 05:30 on Tuesday 3 November in Tokyo, still Monday 2 November in UTC.
        let figures = ServiceFigures(
            agents: [AgentName(id: 1, name: "Ann"), AgentName(id: 2, name: "Bo")],
            tickets: [
                Self.ticket(1, opened: "2026-11-02T20:30:00Z", first: "2026-11-02T20:31:00Z", by: 1, resolved: "2026-11-02T21:30:00Z", agent: 1),
                Self.ticket(2, opened: "2026-11-02T10:00:00Z", first: "2026-11-02T10:05:00Z", by: 2, resolved: "2026-11-03T10:00:00Z", agent: 2,
                            channel: "whatsapp"),
                Self.ticket(3, opened: "2026-11-02T11:00:00Z", first: "2026-11-02T11:20:00Z", by: 1, channel: "whatsapp"),
                // Opened before the period, resolved in it: a resolution, not an opening.
                Self.ticket(4, opened: "2026-10-20T00:00:00Z", first: "2026-10-20T00:01:00Z", by: 2, resolved: "2026-11-03T01:00:00Z", agent: 1),
            ],
            ratings: [
                RatingTime(ratedAt: Self.ms("2026-11-02T20:40:00Z"), rating: .good), RatingTime(ratedAt: Self.ms("2026-11-02T12:00:00Z"), rating: .bad),
            ],
            inboundSlots: [
                SlotCount(slot: Self.ms("2026-11-02T20:30:00Z") / ServiceFigures.slotMilliseconds, count: 3),
                SlotCount(slot: Self.ms("2026-11-02T10:00:00Z") / ServiceFigures.slotMilliseconds, count: 2),
            ])
        let (from, to) = try #require(ServiceReport.period(first: Self.day(2026, 11, 2), last: Self.day(2026, 11, 3), in: Self.tokyo))
        #expect(from == RFC3339.dateTime("2026-11-01T15:00:00Z"))
        #expect(to == RFC3339.dateTime("2026-11-03T15:00:00Z"))
        let tokyo = ServiceReport(figures: figures, from: from, to: to, timeZone: Self.tokyo)
        #expect(tokyo.days.map(\.date) == ["2026-11-02", "2026-11-03"])
        #expect(tokyo.days.map(\.opened) == [2, 1])
        #expect(tokyo.days.map(\.resolved) == [0, 3])  // 2 resolved 19:00 on the 3rd, 4 at 10:00, 1 at 06:30
        #expect(tokyo.days.map(\.ratingsGood) == [0, 1])
        #expect(tokyo.days.map(\.ratingsBad) == [1, 0])
        #expect(tokyo.days.map(\.satisfaction) == [0, 1])
        #expect(tokyo.firstResponse == ServiceReport.Durations(ms: [60_000, 300_000, 1_200_000]))
        #expect(tokyo.firstResponse.medianSeconds == 300 && tokyo.firstResponse.p90Seconds == 1200)
        #expect(tokyo.resolution.count == 3)
        #expect(tokyo.agents.map(\.name) == ["Ann", "Bo"])
        #expect(tokyo.agents[0].firstResponse.count == 2)  // tickets 1 and 3; ticket 4 opened before the period
        #expect(tokyo.agents[0].resolution == ServiceReport.Durations(ms: [3_600_000, Self.ms("2026-11-03T01:00:00Z") - Self.ms("2026-10-20T00:00:00Z")]))
        #expect(tokyo.agents[1].resolution.medianSeconds == 86400)
        #expect(tokyo.channels.map(\.channel) == ["line", "whatsapp"])
        #expect(tokyo.channels.map(\.opened) == [1, 2])
        // Tuesday 05:00 and Monday 19:00 in Tokyo.
        #expect(tokyo.busiestHours[1][5] == 3)
        #expect(tokyo.busiestHours[0][19] == 2)
        #expect(tokyo.busiestHours.joined().reduce(0, +) == 5)

        let (utcFrom, utcTo) = try #require(ServiceReport.period(first: Self.day(2026, 11, 2), last: Self.day(2026, 11, 2), in: Self.utc))
        let utc = ServiceReport(figures: figures, from: utcFrom, to: utcTo, timeZone: Self.utc)
        #expect(utc.days.map(\.opened) == [3])
        #expect(utc.days.map(\.resolved) == [1])
        #expect(utc.busiestHours[0][20] == 3 && utc.busiestHours[0][10] == 2)
    }

    @Test func daysAcrossDaylightSavingChangesKeepTheirEvents() throws {
        // New York: clocks go forward on 8 March 2026 (a 23-hour day) and back on 1 November (25 hours).
        let (from, to) = try #require(ServiceReport.period(first: Self.day(2026, 3, 7), last: Self.day(2026, 3, 9), in: Self.newYork))
        #expect(to.timeIntervalSince(from) == 71 * 3600)
        let spring = ServiceFigures(agents: [], tickets: [
            Self.ticket(1, opened: "2026-03-08T04:59:00Z"),  // 23:59 EST on the 7th
            Self.ticket(2, opened: "2026-03-08T05:00:00Z"),  // 00:00 EST on the 8th
            Self.ticket(3, opened: "2026-03-09T03:59:00Z"),  // 23:59 EDT on the 8th
            Self.ticket(4, opened: "2026-03-09T04:00:00Z"),  // 00:00 EDT on the 9th
        ], ratings: [], inboundSlots: [SlotCount(slot: Self.ms("2026-03-08T07:00:00Z") / ServiceFigures.slotMilliseconds, count: 1)])
        let march = ServiceReport(figures: spring, from: from, to: to, timeZone: Self.newYork)
        #expect(march.days.map(\.date) == ["2026-03-07", "2026-03-08", "2026-03-09"])
        #expect(march.days.map(\.opened) == [1, 2, 1])
        #expect(march.busiestHours[6][3] == 1)  // 07:00Z is 03:00 EDT on Sunday (02:00 never happened)

        let (autumnFrom, autumnTo) = try #require(ServiceReport.period(first: Self.day(2026, 11, 1), last: Self.day(2026, 11, 1), in: Self.newYork))
        #expect(autumnTo.timeIntervalSince(autumnFrom) == 25 * 3600)
        let autumn = ServiceFigures(agents: [], tickets: [
            Self.ticket(1, opened: "2026-11-01T04:00:00Z"),  // 00:00 EDT
            Self.ticket(2, opened: "2026-11-02T04:59:00Z"),  // 23:59 EST
            Self.ticket(3, opened: "2026-11-02T05:00:00Z"),  // the 2nd
        ], ratings: [], inboundSlots: [])
        #expect(ServiceReport(figures: autumn, from: autumnFrom, to: autumnTo, timeZone: Self.newYork).days.map(\.opened) == [2])
    }

    @Test func aPeriodIsWholeRealDaysInOrder() {
        #expect(ServiceReport.period(first: Self.day(2026, 11, 3), last: Self.day(2026, 11, 2), in: Self.utc) == nil)
        #expect(ServiceReport.period(first: Self.day(2026, 2, 30), last: Self.day(2026, 3, 2), in: Self.utc) == nil)
        #expect(ServiceReport.period(first: Self.day(2026, 11, 3), last: Self.day(2026, 11, 3), in: Self.utc) != nil)
    }
}
