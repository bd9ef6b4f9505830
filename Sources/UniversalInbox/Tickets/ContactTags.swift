import Foundation
import GRDB

extension Schema {
    /// Contacts' tags (v24): what the business knows about the customer ("vip", "wholesale"),
    /// beside the tags of single tickets, and targetable by campaigns. Tags, custom contact fields
    /// and the e-mail address show beside every ticket of the contact, so a change to them appends
    /// `ticket_updated` for each ticket that is not closed (like a name arriving, v23): another
    /// agent's page showing the contact reloads it.
    static let contactTags = """
        CREATE TABLE contact_tags (
            contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (contact_id, tag)
        ) WITHOUT ROWID;
        CREATE INDEX contact_tags_tag ON contact_tags(tag);
        """
        + contactChanged("events_contact_tagged", "AFTER INSERT ON contact_tags", contact: "NEW.contact_id")
        + contactChanged("events_contact_untagged", "AFTER DELETE ON contact_tags", contact: "OLD.contact_id")
        + contactChanged("events_contact_field_set", "AFTER INSERT ON contact_fields", contact: "NEW.contact_id")
        + contactChanged(
            "events_contact_field_changed", "AFTER UPDATE OF value ON contact_fields", when: "OLD.value IS NOT NEW.value", contact: "NEW.contact_id")
        + contactChanged("events_contact_field_cleared", "AFTER DELETE ON contact_fields", contact: "OLD.contact_id")
        + contactChanged("events_contact_email", "AFTER UPDATE OF email ON contacts", when: "OLD.email IS NOT NEW.email", contact: "NEW.id")

    /// A trigger appending `ticket_updated` for each ticket that is not closed of the contact
    /// `contact` names (the SQLite twin of `PostgresSchema.contactChanged`).
    static func contactChanged(_ name: String, _ event: String, when condition: String? = nil, contact: String) -> String {
        """

        CREATE TRIGGER \(name) \(event)\(condition.map { " WHEN \($0)" } ?? "") BEGIN
            INSERT INTO events (type, ticket_id) SELECT 'ticket_updated', id FROM tickets WHERE contact_id = \(contact) AND status != 'closed';
        END;
        """
    }
}

extension Inbox {
    /// A contact's tags, sorted (for SQLite reads; `SQLiteContactStore` changes them).
    static func contactTags(_ db: Database, contactId: Int64) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT tag FROM contact_tags WHERE contact_id = ? ORDER BY tag", arguments: [contactId])
    }
}
