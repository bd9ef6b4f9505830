@testable import BridgeServer
import EmailChannel
import Testing

/// `kind: email` accounts in bridge.yaml: the mailbox settings read, with `${ENV}` secrets, and
/// each mistake named by its key.
@Suite struct EmailConfigTests {
    @Test func anEmailAccountReadsItsMailbox() throws {
        let yaml = """
            channels:
              - kind: email
                id: support
                address: help@shop.example
                name: Shop Support
                imap:
                  url: imaps://imap.shop.example:993
                  username: help@shop.example
                  password: ${IMAP_PASSWORD}
                  pollInterval: 5m
                  markSeen: false
            """
        let config = try ConfigLoader.parse(yaml: yaml, environment: ["IMAP_PASSWORD": "s3cret"])
        guard case .email(let account) = try #require(config.channels.first) else {
            Issue.record("not an e-mail account")
            return
        }
        #expect(account == EmailConfiguration(
            id: "support", address: "help@shop.example", name: "Shop Support",
            imap: EmailConfiguration.IMAP(
                url: "imaps://imap.shop.example:993", username: "help@shop.example", password: "s3cret", mailbox: "INBOX",
                pollInterval: .seconds(300), markSeen: false)))
        #expect(config.channels.first?.account.key == "email/support")
    }

    @Test(arguments: [
        ("address: nobody\n    imap: { url: imaps://h, username: u, password: p }", "channels[0].address must be an e-mail address"),
        ("address: a@b.example", "channels[0].imap is required: the mailbox the account reads"),
        ("address: a@b.example\n    imap: { url: https://h, username: u, password: p }", "channels[0].imap.url must be imaps://host:port or imap://host:port"),
        ("address: a@b.example\n    imap: { url: imaps://h, username: u }", "channels[0].imap.password is required"),
        ("address: a@b.example\n    imap: { url: imaps://h, username: u, password: p, pollInterval: 0s }", "channels[0].imap.pollInterval must be at least 1s"),
    ])
    func mistakesNameTheirKey(_ rest: String, _ message: String) {
        let yaml = "channels:\n  - kind: email\n    id: support\n    " + rest
        do {
            _ = try ConfigLoader.parse(yaml: yaml, environment: [:])
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)" == message)
        }
    }
}
