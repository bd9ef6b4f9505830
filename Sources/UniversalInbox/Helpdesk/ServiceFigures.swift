import Foundation

/// What the service report is worked out from (`ReportStore.serviceFigures`), read in one go so
/// the figures agree with each other. Times are Unix ms. The store only reads; every grouping by
/// day, hour and time zone happens in `ServiceReport`, once for both databases.
public struct ServiceFigures: Sendable, Equatable {
    /// Every agent, in id order (names for the per-agent figures).
    public var agents: [AgentName]
    /// Tickets (not merged away) opened in the period or first resolved in it.
    public var tickets: [TicketTiming]
    /// Ratings given in the period.
    public var ratings: [RatingTime]
    /// Customer messages in the period, counted per 15-minute slot (`slot` = ms / 900 000). Every
    /// time zone's offset is a multiple of 15 minutes, so the slots fall into local hours exactly.
    public var inboundSlots: [SlotCount]

    public init(agents: [AgentName], tickets: [TicketTiming], ratings: [RatingTime], inboundSlots: [SlotCount]) {
        self.agents = agents
        self.tickets = tickets
        self.ratings = ratings
        self.inboundSlots = inboundSlots
    }

    /// The length of a slot of `inboundSlots`, in ms.
    public static let slotMilliseconds: Int64 = 900_000
}

public struct AgentName: Sendable, Equatable {
    public var id: Int64
    public var name: String

    public init(id: Int64, name: String) {
        self.id = id
        self.name = name
    }
}

/// One ticket's milestones: opened, its first agent reply (and whose), its first resolution.
public struct TicketTiming: Sendable, Equatable {
    public var ticketId: Int64
    public var openedAt: Int64
    /// The channel of its first message (nil for a ticket without messages).
    public var channel: String?
    /// The agent it is assigned to now.
    public var agentId: Int64?
    /// The first reply by an agent (in the inbox or from Slack), at any time.
    public var firstResponseAt: Int64?
    /// Who wrote that reply, when it was an inbox agent (`agent:<id>`); nil for Slack.
    public var firstResponderId: Int64?
    /// The first time it was set resolved, at any time.
    public var resolvedAt: Int64?

    public init(
        ticketId: Int64, openedAt: Int64, channel: String?, agentId: Int64?, firstResponseAt: Int64?, firstResponderId: Int64?, resolvedAt: Int64?
    ) {
        self.ticketId = ticketId
        self.openedAt = openedAt
        self.channel = channel
        self.agentId = agentId
        self.firstResponseAt = firstResponseAt
        self.firstResponderId = firstResponderId
        self.resolvedAt = resolvedAt
    }

    /// `agent:12` → 12; anything else (Slack, the system) → nil.
    public static func agentId(author: String?) -> Int64? {
        guard let author, author.hasPrefix("agent:") else { return nil }
        return Int64(author.dropFirst(6))
    }
}

public struct RatingTime: Sendable, Equatable {
    public var ratedAt: Int64
    public var rating: Rating

    public init(ratedAt: Int64, rating: Rating) {
        self.ratedAt = ratedAt
        self.rating = rating
    }
}

public struct SlotCount: Sendable, Equatable {
    public var slot: Int64
    public var count: Int

    public init(slot: Int64, count: Int) {
        self.slot = slot
        self.count = count
    }
}
