import Broadcast
import ChannelKit
import Email
import UniversalInbox

/// What campaigns send through: the channel accounts (with the dispatcher's buckets) and, as the
/// `email` account, the e-mail relay with its own bucket.
struct CampaignAccounts: BroadcastAccounts {
    let registry: ChannelRegistry
    let email: EmailSender?
    let emailBucket: TokenBucket?

    init(registry: ChannelRegistry, email: EmailSender?, rateLimits: any RateLimitLedger) {
        self.registry = registry
        self.email = email
        self.emailBucket = email.map { TokenBucket(limit: $0.defaultRateLimit, name: Inbox.emailChannel, ledger: rateLimits) }
    }

    func adapter(for account: String) -> (any MessageSender)? {
        account == Inbox.emailChannel ? email : registry.adapter(for: account)
    }

    func bucket(for account: String) -> TokenBucket? {
        account == Inbox.emailChannel ? emailBucket : registry.bucket(for: account)
    }

    func batchBucket(for account: String) -> TokenBucket? { registry.batchBucket(for: account) }
}
