import BenchmarkSupport
import Foundation
import GRDB
import UniversalInbox

/// The benchmark's customers: contacts with a LINE or WhatsApp identity who wrote a minute ago,
/// written straight into the bridge's database before it starts. One SQL description for both
/// databases (a recursive count, which SQLite and PostgreSQL both run), run by GRDB on a SQLite
/// file and by `psql` on PostgreSQL; only the LINE user id's hex formatting differs between them.
struct Audience {
    var line: Int
    var whatsapp: Int

    var total: Int { line + whatsapp }

    /// The WhatsApp customers' phone numbers (their platform user ids), as the stand-in sees them in `to`.
    var whatsappPhones: Set<String> { Set((line..<total).map { String(Self.firstPhone + $0) }) }

    static let firstPhone = 5511_9000_00000

    enum Dialect {
        case sqlite, postgres

        /// `'U'` and the customer's number as 32 hex digits.
        var lineUserId: String {
            switch self {
            case .sqlite: "printf('U%032x', i)"
            case .postgres: "'U' || lpad(to_hex(i), 32, '0')"
            }
        }
    }

    /// The statements that fill an empty, migrated database.
    func statements(_ dialect: Dialect, now: Int64) -> [String] {
        let count = "WITH RECURSIVE n(i) AS (SELECT 0 WHERE 0 < \(total) UNION ALL SELECT i + 1 FROM n WHERE i + 1 < \(total))"
        let isLine = "i < \(line)"
        let phone = "CAST(\(Self.firstPhone) + i AS TEXT)"
        var statements = [
            "\(count) INSERT INTO contacts (id, display_name, created_at, updated_at) SELECT i + 1, 'Customer ' || i, \(now), \(now) FROM n",
            """
            \(count) INSERT INTO identities (contact_id, account, channel, platform_user_id, display_name, phone, last_inbound_at, created_at)
            SELECT i + 1, CASE WHEN \(isLine) THEN 'line/bench' ELSE 'whatsapp/bench' END, CASE WHEN \(isLine) THEN 'line' ELSE 'whatsapp' END,
                CASE WHEN \(isLine) THEN \(dialect.lineUserId) ELSE \(phone) END, 'Customer ' || i, CASE WHEN \(isLine) THEN NULL ELSE \(phone) END,
                \(now), \(now)
            FROM n
            """,
        ]
        if dialect == .postgres {
            // Ids given explicitly leave the identity sequence behind; the planner learns the sizes.
            statements += [
                "SELECT setval(pg_get_serial_sequence('contacts', 'id'), greatest(1, (SELECT max(id) FROM contacts)))",
                "ANALYZE contacts",
                "ANALYZE identities",
            ]
        }
        return statements
    }

    /// Fills the bridge's database: `database` is its `database.url` (`sqlite:PATH` or `postgres://…`,
    /// already migrated by `bridge migrate`).
    func fill(_ database: String) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        if database.hasPrefix("postgres") {
            for statement in statements(.postgres, now: now) { _ = try PostgresCLI.query(database, statement) }
            return
        }
        let appDatabase = try AppDatabase(path: String(database.dropFirst("sqlite:".count)))  // migrates
        try appDatabase.pool.write { db in
            for statement in statements(.sqlite, now: now) { try db.execute(sql: statement) }
        }
    }
}
