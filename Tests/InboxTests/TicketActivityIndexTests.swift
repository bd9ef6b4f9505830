import Foundation
import GRDB
import Testing

@testable import UniversalInbox

/// v40: the ticket indexes without `updated_at` for waiting tickets (`tickets_waiting`,
/// `tickets_answered`) and with only the tickets that have a department (`tickets_department`)
/// still give each list its order, with the SQL the store builds.
@Suite struct TicketActivityIndexTests {
    static func filter(_ build: (inout TicketFilter) -> Void) -> TicketFilter {
        var filter = TicketFilter()
        build(&filter)
        return filter
    }

    /// The answered tickets, newest activity first, read in `tickets_answered`'s order with any
    /// filter: with an agent's, SQLite chose `tickets_agent` and sorted every ticket of the agent's.
    @Test(arguments: [
        TicketFilter(), filter { $0.agentId = 7 }, filter { $0.unassigned = true }, filter { $0.activeOnly = true },
        filter { $0.status = .open }, filter { $0.departmentId = 2 }, filter { $0.visibility = TicketVisibility(agentId: 7, departments: [1, 3]) },
    ])
    func theAnsweredTicketsAreReadInOrder(_ filter: TicketFilter) throws {
        let conditions = SQLiteTicketQueryStore.conditions(filter).conditions
        let plan = try queryPlan(SQLiteTicketQueryStore.waitingSQL(conditions, .answered, limit: 51))
        #expect(plan.contains { $0.contains("t USING INDEX tickets_answered") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    @Test func theWaitingTicketsAreReadInOrderAndFromTheCursor() throws {
        for conditions in [[], ["(t.waiting_since, t.id) > (?, ?)"]] {
            let plan = try queryPlan(SQLiteTicketQueryStore.waitingSQL(conditions, .waiting, limit: 51))
            #expect(plan.contains("SEARCH t USING INDEX tickets_waiting (waiting_since>?)"), "\(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
        }
    }

    /// A department's list reads `tickets_department`, which holds only tickets with a department.
    @Test func aDepartmentsListReadsItsIndex() throws {
        let conditions = SQLiteTicketQueryStore.conditions(Self.filter { $0.departmentId = 2 }).conditions
        let plan = try queryPlan(
            "SELECT t.* FROM tickets t WHERE \(conditions.joined(separator: " AND ")) ORDER BY t.updated_at DESC, t.id DESC LIMIT 51")
        #expect(plan.contains("SEARCH t USING INDEX tickets_department (department_id=?)"), "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    /// Cursors of the longest-waiting list: `w:<wait>:<id>`, and the `w:<wait>:<activity>:<id>` of
    /// pages listed before v40, which reads as its wait and id.
    @Test func waitingCursorsReadBothForms() {
        let cursor = WaitingCursor.encode(.waiting(since: 3000, id: 3))
        #expect(WaitingCursor.decode(cursor) == .waiting(since: 3000, id: 3))
        #expect(WaitingCursor.decode(Data("w:3000:7000:3".utf8).base64EncodedString()) == .waiting(since: 3000, id: 3))
        #expect(WaitingCursor.decode(Data("w:3000".utf8).base64EncodedString()) == nil)
        #expect(WaitingCursor.decode(WaitingCursor.encode(.answered(updatedAt: 9000, id: 1))) == .answered(updatedAt: 9000, id: 1))
    }
}
