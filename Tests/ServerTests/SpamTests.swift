@testable import BridgeServer
import Foundation
import Testing
import UniversalInbox

/// Spam box, restore, and the learning filter.
@Suite struct SpamTests {
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func markSpamAndRestore() async throws {
        try await TestBridge.with(standIns: [.line]) { t in
            let (api, ann) = (t.api, t.api(as: try await t.addAgent("Ann")))
            let ticket = try await t.customerWrites(Payloads.lineUser, "WIN A FREE IPHONE click bit.ly/x")
            let spam = try await ann.markSpam(ticket)
            #expect(spam.status == .spam)
            #expect(spam.resolutionReason == .spam)
            #expect(try await api.ticketIds("view=spam") == [ticket])
            #expect(try await api.ticketIds("status=new").isEmpty)
            let restored = try await ann.markSpam(ticket, false)
            #expect(restored.status == .open)
            #expect(restored.resolutionReason == nil)
            #expect(try await api.ticketIds("view=spam").isEmpty)
            #expect(try await api.history(ticket).map(\.kind) == ["marked_spam", "restored_from_spam"])
            // The decision trained the filter once, as its latest label.
            let labels = try await t.bridge.inbox.database.pool.read { db in
                try String.fetchAll(db, sql: "SELECT label FROM spam_training WHERE ticket_id = ?", arguments: [ticket])
            }
            #expect(labels == ["ham"])
        }
    }

    /// A labelled set of customer messages: 120 spam, 120 genuine, written from varied templates.
    /// Agents' decisions on 80 + 80 train the filter; it then screens the 40 + 40 it has not seen.
    @Test(.enabled(if: TestDatabase.isSQLite, TestDatabase.sqliteOnly)) func filterLearnsFromAgentsAndSendsLikelySpamToTheSpamBox() async throws {
        let spam = LabelledSet.messages(LabelledSet.spamTemplates, count: 120, seed: 1)
        let genuine = LabelledSet.messages(LabelledSet.genuineTemplates, count: 120, seed: 2)
        try await TestBridge.with(standIns: [.line], configure: { $0.spam = .init(threshold: 0.9, minimumTraining: 20) }) { t in
            var n = 0
            func write(_ text: String) async throws -> Int64 {
                n += 1
                return try await t.customerWrites("U" + String(format: "%032d", n), text)
            }
            // Untrained, nothing is filtered.
            let early = try await write(spam[0])
            try await t.eventually("the first ticket screened") { try await t.bridge.inbox.spamProbability(of: "x", minimum: 1) == nil }
            #expect(try await t.api.ticket(early).status == .new)
            for (index, text) in spam.prefix(80).enumerated() {
                let id = index == 0 ? early : try await write(text)
                _ = try await t.api.markSpam(id)
            }
            for text in genuine.prefix(80) {
                let id = try await write(text)
                // A genuine ticket the agent handled: marking "not spam" is the agent's decision.
                _ = try await t.api.markSpam(id, false)
            }

            var truePositive = 0, falsePositive = 0, falseNegative = 0
            for (text, isSpam) in spam.suffix(40).map({ ($0, true) }) + genuine.suffix(40).map({ ($0, false) }) {
                let id = try await write(text)
                try await t.eventually("ticket \(id) screened") {
                    try await t.bridge.inbox.database.pool.read { db in
                        try Int.fetchOne(db, sql: "SELECT screened FROM tickets WHERE id = ?", arguments: [id]) == 1
                    }
                }
                let flagged = try await t.api.ticket(id).status == .spam
                switch (flagged, isSpam) {
                case (true, true): truePositive += 1
                case (true, false): falsePositive += 1
                case (false, true): falseNegative += 1
                case (false, false): break
                }
            }
            let precision = Double(truePositive) / Double(max(truePositive + falsePositive, 1))
            let recall = Double(truePositive) / Double(truePositive + falseNegative)
            print(String(format: "spam filter on 40 spam + 40 genuine unseen messages: precision %.2f, recall %.2f (threshold 0.9)", precision, recall))
            #expect(precision >= 0.9)
            #expect(recall >= 0.75)
            let flaggedHistory = try await t.api.tickets("view=spam&limit=200").items.count
            #expect(flaggedHistory == 80 + truePositive + falsePositive)
        }
    }
}

/// Generates varied messages from templates and word lists, deterministically.
enum LabelledSet {
    static let spamTemplates = [
        "Congratulations! You have WON a {prize}. Claim now at {link}", "Earn ${amount} a day from home, no experience needed. Reply YES",
        "URGENT: your account will be suspended, verify at {link}", "Cheap {pill} without prescription, {percent}% off today only",
        "Hot singles in your area want to meet you {link}", "Invest in {coin} now and double your money in 7 days!!!",
        "You are selected for a free {prize}, just pay shipping {link}", "Work from home and earn ${amount} weekly, click {link}",
        "FREE {prize} giveaway!!! Limited offer, click {link} now", "Buy followers and likes, {percent}% discount, DM now",
        "当選おめでとうございます！{link} から賞品を受け取ってください", "簡単に月{amount}万円稼げます。今すぐ登録",
        // Phishing that borrows a genuine customer's words.
        "Your parcel delivery failed. Pay the ${amount} fee at {link} to reschedule", "Your order {order} is on hold, confirm your card at {link}",
    ]
    static let genuineTemplates = [
        "Hi, where is my order {order}? It was due {day}.", "The {item} I received is damaged, can I get a replacement?",
        "Can I change the delivery address for order {order}?", "I would like a refund for order {order}, the {item} does not fit",
        "Thanks for your help {day}, the {item} works now", "Do you ship to {city}? I want to order a {item}",
        "My payment for order {order} failed, can you check?", "Is the {item} available in blue?",
        "I was charged twice for order {order}", "How long does delivery to {city} take?",
        "注文{order}はいつ届きますか？", "{item}のサイズを交換したいです",
        // Genuine messages with spam's words.
        "Is shipping free for order {order}?", "I clicked the link in your email but the page for order {order} is empty",
        "Can I get a discount code? I saw {percent}% off last week", "I won a gift card in your raffle, how do I use it on a {item}?",
    ]
    static let fills: [String: [String]] = [
        "prize": ["iPhone 16", "gift card", "cruise", "laptop", "Amazon voucher"], "link": ["bit.ly/3xYz", "tinyurl.com/win", "free-prize.biz", "claim-now.top"],
        "amount": ["500", "1000", "300", "50"], "pill": ["pills", "meds", "viagra"], "percent": ["90", "80", "75"], "coin": ["DOGE2", "SafeMoonX", "bitcoin"],
        "order": ["4711", "1203", "88812", "5521", "#1234", "A-77"], "day": ["yesterday", "on Monday", "last week", "today"],
        "item": ["jacket", "kettle", "phone case", "lamp", "shoes", "coffee grinder"], "city": ["Osaka", "Lisbon", "Berlin", "São Paulo"],
    ]

    static func messages(_ templates: [String], count: Int, seed: UInt64) -> [String] {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        return (0..<count).map { i in
            var text = templates[(i + next(templates.count)) % templates.count]
            for (key, values) in fills.sorted(by: { $0.key < $1.key }) {
                while let range = text.range(of: "{\(key)}") { text.replaceSubrange(range, with: values[next(values.count)]) }
            }
            return text
        }
    }
}
