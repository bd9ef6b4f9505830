import ChannelKit
import Foundation
import Hummingbird
import MessengerChannel
import UniversalInbox

/// Campaigns (owners and admins): create, schedule, start, pause, resume, cancel, follow progress,
/// read the report; and individual messages to a contact on any of their channels.
struct CampaignsController: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("campaigns") { _, context in
            _ = try context.requireSettingsManager()
            return JSONResponse.make(ItemsDTO(items: try await inbox.campaigns()))
        }
        group.post("campaigns") { request, context in try await create(request, context) }
        group.get("campaigns/:id") { _, context in
            _ = try context.requireSettingsManager()
            return JSONResponse.make(try await inbox.campaign(id: try context.id()))
        }
        for action in CampaignAction.allCases {
            group.post("campaigns/:id/\(action.rawValue)") { _, context in
                _ = try context.requireSettingsManager()
                return JSONResponse.make(try await inbox.changeCampaign(try context.id(), to: action))
            }
        }
        group.get("campaigns/:id/report") { request, context in
            _ = try context.requireSettingsManager()
            let (id, format) = (try context.id(), try request.query().value("format", as: ReportFormat.self))
            let report = try await inbox.campaignReport(id: id)
            guard format == .csv else { return JSONResponse.make(report) }
            var text = CSV.row(["channel", "sent", "delivered", "read", "failed", "skipped", "pending"])
            for r in report.channels { text += CSV.row([r.channel, String(r.sent), String(r.delivered), String(r.read), String(r.failed), String(r.skipped), String(r.pending)]) }
            text += CSV.row([]) + CSV.row(["status", "reason", "count"])
            for r in report.reasons { text += CSV.row([r.status, r.reason, String(r.count)]) }
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        group.get("campaigns/:id/recipients") { request, context in
            _ = try context.requireSettingsManager()
            let params = try request.query()
            let items = try await inbox.campaignRecipients(
                id: try context.id(), status: try params.single("status").map(String.init), afterId: try params.integer("after", in: 0...Int64.max) ?? 0,
                limit: Int(try params.integer("limit", in: 1...1000) ?? 100))
            return JSONResponse.make(ItemsDTO(items: items))
        }
        group.post("contacts/:id/messages") { request, context in try await individual(request, context) }
    }

    struct Body: Decodable {
        struct Audience: Decodable {
            var contactIds: [Int64]?
            var tags: [String]?
            var channel: String?
            var contactFields: [String: String]?
            var lastContactAfter: String?
            var lastContactBefore: String?
            var optedIn: Bool?
            var followersOf: String?
        }
        var name: String
        var audience: Audience
        var channel: String?
        var content: CampaignContent
        var scheduledAt: String?
        /// Start at once (instead of leaving a draft).
        var start: Bool?
    }

    func create(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let actor = try context.requireSettingsManager()
        let body = try await request.decode(Body.self)
        let audience = try Self.audience(body.audience, registry: registry)
        try Self.check(body.content)
        let scheduledAt = try body.scheduledAt.map { try TicketFilter.dateTime($0, "scheduledAt") }
        var campaign = try await inbox.createCampaign(
            name: body.name, audience: audience, channel: body.channel,
            content: body.content, scheduledAt: scheduledAt, createdBy: actor.label)
        if body.start == true, scheduledAt == nil { campaign = try await inbox.changeCampaign(campaign.id, to: .start) }
        return JSONResponse.make(campaign, status: .created)
    }

    /// The audience a request names, its dates read and its followers' account checked.
    static func audience(_ body: Body.Audience, registry: ChannelRegistry) throws -> CampaignAudience {
        var audience = CampaignAudience()
        audience.contactIds = body.contactIds
        audience.tags = body.tags
        audience.channel = body.channel  // channels are checked by the inbox (which knows `email`)
        audience.contactFields = body.contactFields
        audience.lastContactAfter = try body.lastContactAfter.map { try TicketFilter.date(Substring($0), "lastContactAfter") }
        audience.lastContactBefore = try body.lastContactBefore.map { try TicketFilter.date(Substring($0), "lastContactBefore") }
        audience.optedIn = body.optedIn
        if let account = body.followersOf {
            guard registry.adapter(for: account) is any FollowerBroadcasting else {
                throw APIError.unprocessable("invalid_audience", "followersOf must name a configured LINE account (\(account) is not one)")
            }
            audience.followersOf = account
        }
        return audience
    }

    /// What only the server knows of content: the Meta tags a campaign may carry.
    static func check(_ content: CampaignContent) throws {
        if let tag = content.messengerTag, !MessengerAdapter.broadcastTags.contains(tag) {
            throw APIError.badRequest("invalid_messengerTag", "messengerTag must be one of \(MessengerAdapter.broadcastTags.sorted().joined(separator: ", "))")
        }
    }

    /// `POST /api/v1/contacts/{id}/messages`: one message to one contact, in their current ticket
    /// (or a new one), on `channel` or the one they last used — through the outbox, like a reply.
    func individual(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (contactId, actor) = (try context.id(), try context.requireCaller())
        let body = try await request.decode(ReplyRequest.self)
        try body.check()  // before a ticket may be opened for the message
        try await inbox.authorize(actor, .answer, .contact(contactId))
        let ticketId = try await inbox.ticketForOutreach(contactId: contactId, channel: body.channel, by: actor)
        let message = try await ReplyComposer(inbox: inbox, registry: registry).send(body, to: ticketId, by: actor, checkVersion: false)
        return JSONResponse.make(MessageDTO(message), status: .accepted)
    }
}
