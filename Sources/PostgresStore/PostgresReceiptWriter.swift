import ChannelKit
import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// Delivery receipts on PostgreSQL (the twin of SQLite's `ReceiptWriter`): states only move
/// forward; a receipt for a message whose send has not been recorded yet is kept in
/// `pending_receipts`. The rows a receipt moves are locked (`FOR UPDATE`) while it decides, so two
/// processes' receipts for one message never move it backwards.
struct PostgresReceiptWriter {
    let connection: PostgresConnection
    let logger: Logger
    let account: ChannelAccountRef
    let now: Int64

    func apply(_ receipt: DeliveryReceipt, into events: inout [InboxEvent]) async throws {
        guard let messageId = receipt.messageId else { return }
        let rows = try await statuses("""
            SELECT id, status FROM messages WHERE account = \(account.key) AND platform_message_id = \(messageId) AND direction = 'out'
            FOR UPDATE
            """)
        guard !rows.isEmpty else {
            if try await applyToCampaign(receipt, platformMessageId: messageId) { return }
            try await connection.query("""
                INSERT INTO pending_receipts (account, platform_message_id, status, error_code, error_message, received_at)
                VALUES (\(account.key), \(messageId), \(receipt.status.rawValue), \(receipt.errorCode), \(receipt.errorMessage), \(now))
                ON CONFLICT (account, platform_message_id, status) DO NOTHING
                """, logger: logger)
            return
        }
        try await advance(rows, to: receipt.status, errorCode: receipt.errorCode, errorMessage: receipt.errorMessage, into: &events)
    }

    /// A receipt for a campaign message moves its recipient forward. Returns whether it was one.
    private func applyToCampaign(_ receipt: DeliveryReceipt, platformMessageId: String) async throws -> Bool {
        guard let row = try await statuses("""
            SELECT id, status FROM campaign_recipients WHERE account = \(account.key) AND platform_message_id = \(platformMessageId)
            LIMIT 1 FOR UPDATE
            """).first
        else { return false }
        let current = DeliveryStatus(rawValue: row.status) ?? .sent
        if receipt.status.rank > current.rank {
            let reason = receipt.errorMessage.map { "\(receipt.errorCode ?? "failed"): \($0)" }
            try await connection.query("""
                UPDATE campaign_recipients SET status = \(receipt.status.rawValue), reason = coalesce(\(reason)::text, reason), updated_at = \(now)
                WHERE id = \(row.id)
                """, logger: logger)
        }
        return true
    }

    /// Moves every sent message to `customer` created at or before `upTo` forward to `status`.
    func applyWatermark(_ status: DeliveryStatus, upTo: Int64, customer: String, into events: inout [InboxEvent]) async throws {
        let rows = try await statuses("""
            SELECT m.id, m.status FROM messages m JOIN identities i ON i.id = m.identity_id
            WHERE i.account = \(account.key) AND i.platform_user_id = \(customer) AND m.direction = 'out' AND m.created_at <= \(upTo)
                AND m.status IN ('sent', 'delivered')
            ORDER BY m.id
            FOR UPDATE OF m
            """)
        try await advance(rows, to: status, errorCode: nil, errorMessage: nil, into: &events)
    }

    private func advance(
        _ rows: [(id: Int64, status: String)], to status: DeliveryStatus, errorCode: String?, errorMessage: String?, into events: inout [InboxEvent]
    ) async throws {
        for row in rows {
            let current = DeliveryStatus(rawValue: row.status) ?? .queued
            guard status.rank > current.rank else { continue }
            try await connection.query("""
                UPDATE messages SET status = \(status.rawValue), failure_code = coalesce(\(errorCode)::text, failure_code),
                    failure_reason = coalesce(\(errorMessage)::text, failure_reason), updated_at = \(now)
                WHERE id = \(row.id)
                """, logger: logger)
            events.append(.messageStatusChanged(messageId: row.id, status: status))
        }
    }

    private func statuses(_ query: PostgresQuery) async throws -> [(id: Int64, status: String)] {
        var rows: [(id: Int64, status: String)] = []
        for try await row in try await connection.query(query, logger: logger).decode((Int64, String).self) { rows.append(row) }
        return rows
    }
}
