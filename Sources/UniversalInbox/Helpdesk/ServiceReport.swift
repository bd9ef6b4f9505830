import Foundation

/// How the service went over a run of whole days in one time zone: tickets opened and resolved
/// per day, first-response and resolution times (median and 90th percentile) overall, per agent
/// and per channel, satisfaction per day, and the busiest hours of the week.
///
/// Days are the time zone's calendar days, so a day across a daylight-saving change is 23 or 25
/// hours long and every event still falls on the day its local clock showed.
///
/// - A ticket counts as *opened* on the day it was opened; its *first response* time (first agent
///   reply minus opening) counts for tickets opened in the period, credited to the agent who wrote
///   that reply.
/// - A ticket counts as *resolved* on the day it was first set resolved; its *resolution* time
///   (that minus opening) counts for tickets first resolved in the period, credited to the agent
///   it is assigned to.
/// - Per channel: the channel the ticket was opened on (its first message's).
/// - Busiest hours: customer messages per weekday (Monday first) and local hour.
public struct ServiceReport: Sendable, Equatable, Codable {
    public var from: Date
    public var to: Date
    public var timeZone: String
    public var days: [Day]
    public var firstResponse: Durations
    public var resolution: Durations
    public var agents: [AgentTimes]
    public var channels: [ChannelTimes]
    /// Seven rows (Monday … Sunday) of 24 counts (local hours 0 … 23).
    public var busiestHours: [[Int]]

    public struct Day: Sendable, Equatable, Codable {
        /// `yyyy-MM-dd` in the report's time zone.
        public var date: String
        public var opened: Int
        public var resolved: Int
        public var ratingsGood: Int
        public var ratingsBad: Int
        /// good / (good + bad); nil without ratings that day.
        public var satisfaction: Double?
    }

    /// How many durations there were, their median and 90th percentile (nearest rank) in seconds.
    public struct Durations: Sendable, Equatable, Codable {
        public var count: Int
        public var medianSeconds: Double?
        public var p90Seconds: Double?

        public init(ms values: [Int64]) {
            let sorted = values.sorted()
            count = sorted.count
            medianSeconds = Inbox.median(sorted)
            p90Seconds = sorted.isEmpty ? nil : Double(sorted[Int((Double(sorted.count) * 0.9).rounded(.up)) - 1]) / 1000
        }
    }

    public struct AgentTimes: Sendable, Equatable, Codable {
        public var agentId: Int64
        public var name: String
        public var firstResponse: Durations
        public var resolution: Durations
    }

    public struct ChannelTimes: Sendable, Equatable, Codable {
        public var channel: String
        public var opened: Int
        public var firstResponse: Durations
        public var resolution: Durations
    }

    /// The longest period a report covers, so one request cannot ask for years of days.
    public static let maximumDays = 366

    /// The instants a run of local days starts and ends at: midnight of `first` to midnight after
    /// `last`, in `timeZone`. Nil when a day is not a real date or `last` comes before `first`.
    public static func period(first: DateComponents, last: DateComponents, in timeZone: TimeZone) -> (from: Date, to: Date)? {
        let calendar = Self.calendar(timeZone)
        guard first.isValidDate(in: calendar), last.isValidDate(in: calendar),
            let from = calendar.date(from: first), let lastStart = calendar.date(from: last),
            let to = calendar.date(byAdding: .day, value: 1, to: lastStart), from < to
        else { return nil }
        return (calendar.startOfDay(for: from), calendar.startOfDay(for: to))
    }

    /// Works the report out of the store's figures for `[from, to)`, a run of whole local days.
    public init(figures: ServiceFigures, from: Date, to: Date, timeZone: TimeZone) {
        let calendar = Self.calendar(timeZone)
        self.from = from
        self.to = to
        self.timeZone = timeZone.identifier
        let (start, end) = (from.ms, to.ms)
        func inPeriod(_ ms: Int64?) -> Bool { ms.map { $0 >= start && $0 < end } ?? false }

        var days: [Day] = []
        var index: [String: Int] = [:]
        var day = calendar.startOfDay(for: from)
        while day < to {
            let key = Self.dayKey(day, calendar)
            index[key] = days.count
            days.append(Day(date: key, opened: 0, resolved: 0, ratingsGood: 0, ratingsBad: 0, satisfaction: nil))
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
        }
        func dayIndex(_ ms: Int64) -> Int? { index[Self.dayKey(Date(ms: ms), calendar)] }

        var firstResponses: [Int64] = [], resolutions: [Int64] = []
        var agentFirst: [Int64: [Int64]] = [:], agentResolved: [Int64: [Int64]] = [:]
        var channelOpened: [String: Int] = [:], channelFirst: [String: [Int64]] = [:], channelResolved: [String: [Int64]] = [:]
        for ticket in figures.tickets {
            if inPeriod(ticket.openedAt), let i = dayIndex(ticket.openedAt) {
                days[i].opened += 1
                if let channel = ticket.channel { channelOpened[channel, default: 0] += 1 }
                if let first = ticket.firstResponseAt {
                    let wait = first - ticket.openedAt
                    firstResponses.append(wait)
                    if let agent = ticket.firstResponderId { agentFirst[agent, default: []].append(wait) }
                    if let channel = ticket.channel { channelFirst[channel, default: []].append(wait) }
                }
            }
            if let resolved = ticket.resolvedAt, inPeriod(resolved), let i = dayIndex(resolved) {
                days[i].resolved += 1
                let time = resolved - ticket.openedAt
                resolutions.append(time)
                if let agent = ticket.agentId { agentResolved[agent, default: []].append(time) }
                if let channel = ticket.channel { channelResolved[channel, default: []].append(time) }
            }
        }
        for rating in figures.ratings where inPeriod(rating.ratedAt) {
            guard let i = dayIndex(rating.ratedAt) else { continue }
            if rating.rating == .good { days[i].ratingsGood += 1 } else { days[i].ratingsBad += 1 }
        }
        for i in days.indices where days[i].ratingsGood + days[i].ratingsBad > 0 {
            days[i].satisfaction = Double(days[i].ratingsGood) / Double(days[i].ratingsGood + days[i].ratingsBad)
        }
        var hours = Array(repeating: Array(repeating: 0, count: 24), count: 7)
        for slot in figures.inboundSlots {
            let startOfSlot = slot.slot * ServiceFigures.slotMilliseconds
            guard inPeriod(startOfSlot) else { continue }
            let parts = calendar.dateComponents([.weekday, .hour], from: Date(ms: startOfSlot))
            guard let weekday = parts.weekday, let hour = parts.hour else { continue }
            hours[(weekday + 5) % 7][hour] += slot.count  // Gregorian weekday 1 is Sunday
        }

        self.days = days
        firstResponse = Durations(ms: firstResponses)
        resolution = Durations(ms: resolutions)
        agents = figures.agents.map {
            AgentTimes(agentId: $0.id, name: $0.name, firstResponse: Durations(ms: agentFirst[$0.id] ?? []), resolution: Durations(ms: agentResolved[$0.id] ?? []))
        }
        channels = Set(channelOpened.keys).union(channelFirst.keys).union(channelResolved.keys).sorted().map {
            ChannelTimes(
                channel: $0, opened: channelOpened[$0] ?? 0, firstResponse: Durations(ms: channelFirst[$0] ?? []),
                resolution: Durations(ms: channelResolved[$0] ?? []))
        }
        busiestHours = hours
    }

    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    static func dayKey(_ date: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}

extension Inbox {
    /// The service report for the local days `[from, to)` in `timeZone` (see `ServiceReport`).
    public func serviceReport(from: Date, to: Date, timeZone: TimeZone) async throws -> ServiceReport {
        ServiceReport(figures: try await stores.reportStore.serviceFigures(from: from, to: to), from: from, to: to, timeZone: timeZone)
    }
}
