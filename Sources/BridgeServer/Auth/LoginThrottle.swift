import Foundation
import Synchronization

/// Limits password guessing: at most `perAccount` failed logins per e-mail address (known or not,
/// so the answer says nothing about which accounts exist) and `perAddress` per client address
/// within a sliding `window`. Past a limit, logins are answered 429 with the seconds until the
/// oldest counted failure leaves the window, without running bcrypt. A success clears the account's
/// failures.
///
/// Each attempt is counted as a failure when it starts (`begin`) and taken back when it succeeds or
/// is not tried (`succeeded`, `abandoned`), so concurrent guesses cannot slip past a limit while
/// bcrypt runs. The clock is injected, so tests move time instead of sleeping. Memory is bounded:
/// at most `maxKeys` accounts and addresses are remembered, the stalest dropped first.
final class LoginThrottle: Sendable {
    struct Limits: Sendable, Equatable {
        var perAccount = 5
        var perAddress = 20
        var window: TimeInterval = 15 * 60
        /// A header a reverse proxy sets to the client's address (`X-Forwarded-For`: its last entry);
        /// nil uses the connection's peer address. Only set it behind a proxy that sets it.
        var addressHeader: String?
    }

    /// An attempt refused for now.
    struct Limited: Error {
        /// Whole seconds until an attempt may be made again (at least 1).
        var retryAfter: Int
        /// `account` or `address`.
        var scope: String
    }

    let limits: Limits
    private let now: @Sendable () -> Date
    private let maxKeys: Int
    private let state = Mutex(State())

    private struct State {
        /// Failure times, oldest first, per account and per address.
        var accounts: [String: [Date]] = [:]
        var addresses: [String: [Date]] = [:]
    }

    init(limits: Limits, maxKeys: Int = 10_000, now: @escaping @Sendable () -> Date = { Date() }) {
        self.limits = limits
        self.maxKeys = maxKeys
        self.now = now
    }

    /// Counts an attempt for `account` (an e-mail address) from `address`, or throws `Limited`.
    func begin(account: String, address: String?) throws(Limited) {
        let now = now()
        let account = Self.key(account)
        let cutoff = now.addingTimeInterval(-limits.window)
        let limits = limits
        let maxKeys = maxKeys
        let refusal: Limited? = state.withLock { state in
            let accountFailures = Self.recent(state.accounts[account], after: cutoff)
            let addressFailures = address.map { Self.recent(state.addresses[$0], after: cutoff) } ?? []
            var waits: [Limited] = []
            if accountFailures.count >= limits.perAccount {
                waits.append(Limited(retryAfter: Self.wait(accountFailures, limit: limits.perAccount, window: limits.window, now: now), scope: "account"))
            }
            if address != nil, addressFailures.count >= limits.perAddress {
                waits.append(Limited(retryAfter: Self.wait(addressFailures, limit: limits.perAddress, window: limits.window, now: now), scope: "address"))
            }
            if let longest = waits.max(by: { $0.retryAfter < $1.retryAfter }) { return longest }
            state.accounts[account] = accountFailures + [now]
            Self.bound(&state.accounts, maxKeys: maxKeys)
            if let address {
                state.addresses[address] = addressFailures + [now]
                Self.bound(&state.addresses, maxKeys: maxKeys)
            }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// The password was right: the account starts afresh, and the attempt no longer counts against the address.
    func succeeded(account: String, address: String?) {
        let account = Self.key(account)
        state.withLock { state in
            state.accounts.removeValue(forKey: account)
            if let address { Self.dropLast(&state.addresses, address) }
        }
    }

    /// The attempt was not made after all (the password threads were busy): it does not count.
    func abandoned(account: String, address: String?) {
        let account = Self.key(account)
        state.withLock { state in
            Self.dropLast(&state.accounts, account)
            if let address { Self.dropLast(&state.addresses, address) }
        }
    }

    /// Accounts are e-mail addresses, compared as the agents table does (case-insensitively).
    private static func key(_ account: String) -> String { account.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }

    private static func recent(_ failures: [Date]?, after cutoff: Date) -> [Date] {
        guard let failures else { return [] }
        return failures.first.map { $0 > cutoff } == true ? failures : failures.filter { $0 > cutoff }
    }

    /// Seconds until enough failures leave the window for one more attempt.
    private static func wait(_ failures: [Date], limit: Int, window: TimeInterval, now: Date) -> Int {
        let freeing = failures[failures.count - limit]
        return max(1, Int((freeing.addingTimeInterval(window).timeIntervalSince(now)).rounded(.up)))
    }

    private static func dropLast(_ map: inout [String: [Date]], _ key: String) {
        guard var failures = map[key], !failures.isEmpty else { return }
        failures.removeLast()
        map[key] = failures.isEmpty ? nil : failures
    }

    /// Past `maxKeys`, forgets the half whose latest failure is oldest (an attacker spraying
    /// addresses or accounts cannot grow memory without bound).
    private static func bound(_ map: inout [String: [Date]], maxKeys: Int) {
        guard map.count > maxKeys else { return }
        let stalest = map.sorted { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }.prefix(map.count - maxKeys / 2)
        for (key, _) in stalest { map.removeValue(forKey: key) }
    }
}
