import Foundation
import Hummingbird
import UniversalInbox

/// Rules and business hours (owners and admins change them; everyone may read them).
struct RulesController: Sendable {
    let inbox: Inbox

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("rules") { _, _ in JSONResponse.make(ItemsDTO(items: try await inbox.rules())) }
        group.post("rules") { request, context in
            _ = try context.requireSettingsManager()
            let rule = try await request.decode(Rule.self)
            return JSONResponse.make(try await inbox.createRule(rule), status: .created)
        }
        group.put("rules/:id") { request, context in
            _ = try context.requireSettingsManager()
            let rule = try await request.decode(Rule.self)
            return JSONResponse.make(try await inbox.updateRule(id: try context.id(), rule))
        }
        group.post("rules/test") { request, context in
            struct Body: Decodable {
                var ticketId: Int64
                var trigger: Rule.Trigger
            }
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            return JSONResponse.make(ItemsDTO(items: try await inbox.trialRules(ticketId: body.ticketId, trigger: body.trigger)))
        }
        group.delete("rules/:id") { _, context in
            _ = try context.requireSettingsManager()
            try await inbox.deleteRule(id: try context.id())
            return Response(status: .noContent)
        }
        group.put("rules/order") { request, context in
            struct Body: Decodable { var ids: [Int64] }
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            return JSONResponse.make(ItemsDTO(items: try await inbox.reorderRules(body.ids)))
        }
        group.get("business-hours") { _, _ in try await hours(nil) }
        group.put("business-hours") { request, context in try await setHours(request, context, department: nil) }
        group.get("departments/:id/hours") { _, context in try await hours(try context.id()) }
        group.put("departments/:id/hours") { request, context in try await setHours(request, context, department: try context.id()) }
        group.delete("departments/:id/hours") { _, context in
            _ = try context.requireSettingsManager()
            guard try await inbox.clearBusinessHours(department: try context.id()) else {
                throw APIError.notFound("department \(try context.id()) has no hours of its own")
            }
            return Response(status: .noContent)
        }
    }

    private func hours(_ department: Int64?) async throws -> Response {
        guard let hours = try await inbox.businessHours(department: department) else {
            throw APIError.notFound("no business hours are set" + (department.map { " for department \($0) or by default" } ?? ""))
        }
        return JSONResponse.make(hours)
    }

    private func setHours(_ request: Request, _ context: BridgeRequestContext, department: Int64?) async throws -> Response {
        _ = try context.requireSettingsManager()
        let hours = try await request.decode(BusinessHours.self)
        return JSONResponse.make(try await inbox.setBusinessHours(hours, department: department))
    }
}
