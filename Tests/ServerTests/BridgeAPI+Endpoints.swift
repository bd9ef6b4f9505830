@testable import BridgeServer
import ChannelKit
import Foundation
import UniversalInbox

// The endpoints the converted suites use, each with the status it answers on success.
//
// Answers decode into the API's own types. Request bodies are declared here: the routes read
// theirs into types local to each handler, which a client cannot reach. They mirror those
// (named in each doc comment), with enum-like fields as the strings the route parses, so a test
// can send a value the API must refuse.

// MARK: Tickets

extension BridgeAPI {
    /// `GET /tickets?query`, one page.
    func tickets(_ query: String = "") async throws -> TicketPageDTO {
        try await send(.GET, "/api/v1/tickets" + (query.isEmpty ? "" : "?" + query))
    }

    /// The ids of `tickets(query)`'s page, in its order.
    func ticketIds(_ query: String = "") async throws -> [Int64] { try await tickets(query).items.map(\.id) }

    func ticket(_ id: Int64) async throws -> TicketSummary { try await send(.GET, "/api/v1/tickets/\(id)") }

    /// `PATCH /tickets/{id}` (`TicketsController.change`'s body).
    struct TicketChange: Encodable {
        var status: String? = nil
        var priority: String? = nil
        var resolutionReason: String? = nil
        var addTags: [String]? = nil
        var removeTags: [String]? = nil
        /// A nil value clears the field.
        var fields: [String: String?]? = nil
    }

    func updateTicket(_ id: Int64, _ change: TicketChange) async throws -> TicketSummary {
        try await send(.PATCH, "/api/v1/tickets/\(id)", change)
    }

    /// The whole conversation, oldest first.
    func messages(_ ticket: Int64) async throws -> [MessageDTO] {
        try await send(.GET, "/api/v1/tickets/\(ticket)/messages", as: ItemsDTO<MessageDTO>.self).items
    }

    /// `POST /tickets/{id}/messages` and `POST /contacts/{id}/messages` (`ReplyRequest`, the fields tests send).
    struct Reply: Encodable {
        var text: String
        var channel: String? = nil
        var version: Int64? = nil
        var force: Bool? = nil
    }

    /// Queues a reply (202); a collision is 409 `ticket_changed` with `TicketChangedDTO`.
    func reply(_ ticket: Int64, _ reply: Reply) async throws -> MessageDTO {
        try await send(.POST, "/api/v1/tickets/\(ticket)/messages", reply, expect: 202)
    }

    /// A page of the conversation, newest page first: `limit` messages before `before`.
    func messagePage(_ ticket: Int64, before: Int64? = nil, limit: Int? = nil) async throws -> MessagePageDTO {
        let query = [before.map { "before=\($0)" }, limit.map { "limit=\($0)" }].compactMap { $0 }.joined(separator: "&")
        return try await send(.GET, "/api/v1/tickets/\(ticket)/messages?" + query)
    }

    /// `POST /tickets/counts`: how many tickets each filter (a list query string) finds for the caller.
    func counts(_ filters: [String: String]) async throws -> [String: Int] {
        struct Body: Encodable { var filters: [String: String] }
        return try await send(.POST, "/api/v1/tickets/counts", Body(filters: filters), as: ViewCountsController.CountsDTO.self).counts
    }

    func notes(_ ticket: Int64) async throws -> [TicketNote] {
        try await send(.GET, "/api/v1/tickets/\(ticket)/notes", as: ItemsDTO<TicketNote>.self).items
    }

    func addNote(_ ticket: Int64, _ text: String) async throws -> TicketNote {
        struct Body: Encodable { var text: String }
        return try await send(.POST, "/api/v1/tickets/\(ticket)/notes", Body(text: text), expect: 201)
    }

    func history(_ ticket: Int64) async throws -> [TicketHistoryEntry] {
        try await send(.GET, "/api/v1/tickets/\(ticket)/history", as: ItemsDTO<TicketHistoryEntry>.self).items
    }

    /// Merges `others` into `survivor`; answers the survivor.
    func merge(_ others: [Int64], into survivor: Int64) async throws -> TicketSummary {
        struct Body: Encodable { var ticketIds: [Int64] }
        return try await send(.POST, "/api/v1/tickets/\(survivor)/merge", Body(ticketIds: others))
    }

    /// Moves `messages` to a new ticket (201), which it answers.
    func split(_ ticket: Int64, messages: [Int64]) async throws -> TicketSummary {
        struct Body: Encodable { var messageIds: [Int64] }
        return try await send(.POST, "/api/v1/tickets/\(ticket)/split", Body(messageIds: messages), expect: 201)
    }

    /// `PUT` (read) or `DELETE` (mark unread) `/tickets/{id}/read`.
    func markRead(_ ticket: Int64, _ read: Bool = true) async throws -> TicketSummary {
        try await send(read ? .PUT : .DELETE, "/api/v1/tickets/\(ticket)/read")
    }

    func claim(_ ticket: Int64) async throws -> TicketSummary {
        struct Body: Encodable {}
        return try await send(.POST, "/api/v1/tickets/\(ticket)/claim", Body())
    }

    /// `POST /tickets/{id}/transfer` to an agent or a department, with a note for whoever gets it.
    func transfer(_ ticket: Int64, agent: Int64? = nil, department: Int64? = nil, note: String? = nil) async throws -> TicketSummary {
        struct Body: Encodable {
            var agentId: Int64?
            var departmentId: Int64?
            var note: String?
        }
        return try await send(.POST, "/api/v1/tickets/\(ticket)/transfer", Body(agentId: agent, departmentId: department, note: note))
    }

    /// The tickets waiting for automatic distribution that the caller may read, in queue order.
    func queue() async throws -> [QueuedTicket] { try await send(.GET, "/api/v1/queue", as: ItemsDTO<QueuedTicket>.self).items }

    /// `POST` (spam) or `DELETE` (restore) `/tickets/{id}/spam`.
    func markSpam(_ ticket: Int64, _ spam: Bool = true) async throws -> TicketSummary {
        struct Body: Encodable {}
        return try await send(spam ? .POST : .DELETE, "/api/v1/tickets/\(ticket)/spam", spam ? Body() : nil)
    }
}

// MARK: Drafts

extension BridgeAPI {
    /// The caller's draft on the ticket; nil when there is none (204).
    func draft(_ ticket: Int64) async throws -> DraftDTO? {
        try await sendOrNoContent(.GET, "/api/v1/tickets/\(ticket)/draft")
    }

    /// `PUT /tickets/{id}/draft` (`DraftsController`'s body).
    struct DraftSave: Encodable {
        var text: String
        var mode: String? = nil
        /// Nil: the customer's last channel.
        var channel: String? = nil
    }

    /// Saves (and answers) the draft; empty text deletes it (nil, 204).
    func saveDraft(_ ticket: Int64, _ draft: DraftSave) async throws -> DraftDTO? {
        try await sendOrNoContent(.PUT, "/api/v1/tickets/\(ticket)/draft", draft)
    }

    func deleteDraft(_ ticket: Int64) async throws {
        try await sendExpectingNoContent(.DELETE, "/api/v1/tickets/\(ticket)/draft")
    }
}

// MARK: Contacts

extension BridgeAPI {
    /// `GET /contacts/{id}`: with the ratings and ticket counts the caller reaches.
    func contact(_ id: Int64) async throws -> ContactDetail { try await send(.GET, "/api/v1/contacts/\(id)") }

    /// The contact of a ticket.
    func contactId(ofTicket ticket: Int64) async throws -> Int64 { try await self.ticket(ticket).contact.id }

    /// `PATCH /contacts/{id}` (`ContactsController.change`'s body).
    struct ContactChange: Encodable {
        var displayName: String? = nil
        /// Left out when nil; `.some(nil)` sends null, which clears it.
        var email: String?? = nil
        /// A nil value clears the field.
        var fields: [String: String?]? = nil
        var addTags: [String]? = nil
        var removeTags: [String]? = nil

        func encode(to encoder: any Encoder) throws {
            enum Keys: String, CodingKey { case displayName, email, fields, addTags, removeTags }
            var container = encoder.container(keyedBy: Keys.self)
            try container.encodeIfPresent(displayName, forKey: .displayName)
            if let email { try container.encode(email, forKey: .email) }
            try container.encodeIfPresent(fields, forKey: .fields)
            try container.encodeIfPresent(addTags, forKey: .addTags)
            try container.encodeIfPresent(removeTags, forKey: .removeTags)
        }
    }

    func updateContact(_ id: Int64, _ change: ContactChange) async throws -> ContactDetail {
        try await send(.PATCH, "/api/v1/contacts/\(id)", change)
    }

    /// Links `other` into `contact`; answers the contact that remains.
    func link(_ contact: Int64, absorbing other: Int64) async throws -> ContactDetail {
        struct Body: Encodable { var contactId: Int64 }
        return try await send(.POST, "/api/v1/contacts/\(contact)/links", Body(contactId: other))
    }

    /// The answer of `POST /contacts/{id}/history-link` (`ExportController.link`'s `Link`).
    struct HistoryLink: Decodable {
        var url: String
        var expiresAt: Date
    }

    /// A signed link to the contact's whole history (201).
    func historyLink(_ contact: Int64) async throws -> HistoryLink {
        struct Body: Encodable {}
        return try await send(.POST, "/api/v1/contacts/\(contact)/history-link", Body(), expect: 201)
    }

    /// One message to a contact, in their current ticket or a new one (202).
    func message(contact: Int64, _ reply: Reply) async throws -> MessageDTO {
        try await send(.POST, "/api/v1/contacts/\(contact)/messages", reply, expect: 202)
    }
}

// MARK: Settings, agents, the event log, campaigns

extension BridgeAPI {
    /// `POST /fields` (`SettingsController`'s body).
    struct FieldDefinition: Encodable {
        var scope: String? = nil
        var key: String
        var label: String
        var type: String
        var options: [String]? = nil
    }

    func createField(_ field: FieldDefinition) async throws -> CustomField {
        try await send(.POST, "/api/v1/fields", field, expect: 201)
    }

    /// `POST /views` (`SettingsController`'s body): the caller's own view, or everyone's with `shared`.
    func saveView(name: String, filter: String, shared: Bool? = nil) async throws -> SavedView {
        struct Body: Encodable {
            var name: String
            var filter: String
            var shared: Bool?
        }
        return try await send(.POST, "/api/v1/views", Body(name: name, filter: filter, shared: shared), expect: 201)
    }

    func fields() async throws -> [CustomField] { try await send(.GET, "/api/v1/fields", as: ItemsDTO<CustomField>.self).items }

    /// `POST /agents` (`AgentsController.create`'s body).
    struct NewAgent: Encodable {
        var email: String
        var name: String
        var role: String? = nil
        var password: String? = nil
        var maxTickets: Int? = nil
        var departments: [Int64]? = nil
    }

    func createAgent(_ agent: NewAgent) async throws -> Agent { try await send(.POST, "/api/v1/agents", agent, expect: 201) }

    /// `PATCH /agents/{id}` (`AgentsController.change`'s body, the fields tests send).
    struct AgentChange: Encodable {
        var availability: String? = nil
        var distributionPaused: Bool? = nil
        var departmentsOnly: Bool? = nil
        var answerAssignedOnly: Bool? = nil
    }

    func updateAgent(_ id: Int64, _ change: AgentChange) async throws -> Agent { try await send(.PATCH, "/api/v1/agents/\(id)", change) }

    /// The answer of `POST /agents/{id}/tokens` (`AgentsController.token`'s `Created`): the token, shown once.
    struct CreatedToken: Decodable {
        var id: Int64
        var token: String
        var agentId: Int64
        var label: String?
    }

    func createToken(agent: Int64, label: String) async throws -> CreatedToken {
        struct Body: Encodable { var label: String }
        return try await send(.POST, "/api/v1/agents/\(agent)/tokens", Body(label: label), expect: 201)
    }

    func createDepartment(_ name: String) async throws -> Department {
        struct Body: Encodable { var name: String }
        return try await send(.POST, "/api/v1/departments", Body(name: name), expect: 201)
    }

    /// The ordered log after `seq`, as the caller may read it.
    func events(after seq: Int64) async throws -> EventLogPage { try await send(.GET, "/api/v1/events?after=\(seq)") }

    /// `POST /campaigns` (`CampaignsController.Body`, the fields tests send): a draft campaign.
    struct NewCampaign: Encodable {
        struct Audience: Encodable {
            var contactIds: [Int64]? = nil
            var tags: [String]? = nil
        }
        var name: String
        var audience: Audience
        var content: CampaignContent
    }

    func createCampaign(_ campaign: NewCampaign) async throws -> Campaign { try await send(.POST, "/api/v1/campaigns", campaign, expect: 201) }
}
