extension Schema {
    /// v37: the subject of a ticket a mail opened (the mail's Subject), which replies by e-mail
    /// carry as `Re: <subject> [#<ticket>]` so the customer's mail program threads them.
    static let ticketSubjects = "ALTER TABLE tickets ADD COLUMN subject TEXT;"
}
