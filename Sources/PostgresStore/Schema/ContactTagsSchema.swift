extension PostgresSchema {
    /// Contacts' tags and the log entries for changes shown beside a contact's tickets (SQLite v24,
    /// `UniversalInbox/Tickets/ContactTags.swift`): a tag, custom contact field or e-mail address
    /// changing appends `ticket_updated` for each of the contact's tickets that is not closed.
    static let contactTags = [
        """
        CREATE TABLE contact_tags (
            contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (contact_id, tag)
        )
        """,
        "CREATE INDEX contact_tags_tag ON contact_tags (tag)",
    ]
        + contactChanged("events_contact_tagged", "AFTER INSERT ON contact_tags", contact: "NEW.contact_id")
        + contactChanged("events_contact_untagged", "AFTER DELETE ON contact_tags", contact: "OLD.contact_id")
        + contactChanged("events_contact_field_set", "AFTER INSERT ON contact_fields", contact: "NEW.contact_id")
        + contactChanged(
            "events_contact_field_changed", "AFTER UPDATE OF value ON contact_fields", when: "OLD.value IS DISTINCT FROM NEW.value",
            contact: "NEW.contact_id")
        + contactChanged("events_contact_field_cleared", "AFTER DELETE ON contact_fields", contact: "OLD.contact_id")
        + contactChanged("events_contact_email", "AFTER UPDATE OF email ON contacts", when: "OLD.email IS DISTINCT FROM NEW.email", contact: "NEW.id")

    /// A trigger appending `ticket_updated` for each open ticket of the contact `contact` names.
    static func contactChanged(_ name: String, _ event: String, when condition: String? = nil, contact: String) -> [String] {
        trigger(
            name, event, when: condition,
            body: "PERFORM append_event('ticket_updated', id) FROM tickets WHERE contact_id = \(contact) AND status <> 'closed' ORDER BY id;")
    }
}
