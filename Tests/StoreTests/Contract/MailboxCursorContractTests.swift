import Foundation
import Testing
import UniversalInbox

/// `MailboxCursorStore` as every implementation must keep it: per account and mailbox, only
/// forward under one UIDVALIDITY, replaced under a new one.
@Suite struct MailboxCursorContractTests {
    @Test(arguments: StoreKind.available)
    func movesForwardAndRestartsOnANewValidity(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let cursors = stores.mailboxCursors
            #expect(try await cursors.cursor(account: "email/support", mailbox: "INBOX") == nil)
            try await cursors.advance(account: "email/support", mailbox: "INBOX", to: MailboxCursor(uidValidity: 7, lastUID: 3))
            #expect(try await cursors.cursor(account: "email/support", mailbox: "INBOX") == MailboxCursor(uidValidity: 7, lastUID: 3))
            // A late writer with an older UID changes nothing.
            try await cursors.advance(account: "email/support", mailbox: "INBOX", to: MailboxCursor(uidValidity: 7, lastUID: 2))
            #expect(try await cursors.cursor(account: "email/support", mailbox: "INBOX") == MailboxCursor(uidValidity: 7, lastUID: 3))
            try await cursors.advance(account: "email/support", mailbox: "INBOX", to: MailboxCursor(uidValidity: 7, lastUID: 9))
            #expect(try await cursors.cursor(account: "email/support", mailbox: "INBOX") == MailboxCursor(uidValidity: 7, lastUID: 9))
            // The server renumbered the mailbox: the cursor starts over, lower UID and all.
            try await cursors.advance(account: "email/support", mailbox: "INBOX", to: MailboxCursor(uidValidity: 8, lastUID: 1))
            #expect(try await cursors.cursor(account: "email/support", mailbox: "INBOX") == MailboxCursor(uidValidity: 8, lastUID: 1))
            // Other mailboxes and accounts are their own; the full 32-bit range survives.
            try await cursors.advance(account: "email/support", mailbox: "Sales", to: MailboxCursor(uidValidity: UInt32.max, lastUID: UInt32.max))
            #expect(try await cursors.cursor(account: "email/support", mailbox: "Sales") == MailboxCursor(uidValidity: UInt32.max, lastUID: UInt32.max))
            #expect(try await cursors.cursor(account: "email/other", mailbox: "INBOX") == nil)
            #expect(try await cursors.cursor(account: "email/support", mailbox: "INBOX") == MailboxCursor(uidValidity: 8, lastUID: 1))
        }
    }
}
