extension Schema {
    /// v39: the two look-ups every customer message makes on the ingest writer read their answer in
    /// index order: the contact's current ticket (`IngestWriter.route`: the newest that is not
    /// closed) and the rating request it may answer (`ratingAnswer`: the newest pending). With
    /// `tickets_contact (contact_id, status)` and `ratings_pending (contact_id)` SQLite sorted their
    /// rows in a temporary B-tree, opened (and allocated) for every message even when it found one
    /// row or none; the two look-ups were a sixth of the writer's CPU in `IngestBenchmark store`.
    /// The orders come from the indexes because `tickets.id` and `ratings.ticket_id` are the rowid,
    /// every index's last column.
    static let ingestLookups = """
        CREATE INDEX tickets_contact_current ON tickets(contact_id) WHERE status != 'closed';
        DROP INDEX ratings_pending;
        CREATE INDEX ratings_pending ON ratings(contact_id, requested_at) WHERE state = 'requested' AND rating IS NULL;
        """
}
