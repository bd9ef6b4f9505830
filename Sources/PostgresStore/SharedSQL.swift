import PostgresNIO

extension PostgresQuery {
    /// SQL written once for both databases (SQLite's `?` placeholders) as a PostgreSQL query: its
    /// `?`s numbered `$1, $2, ...` in order and `arguments` bound to them (nil binds NULL). The
    /// shared SQL is the store's own text, never a caller's, and uses no `?` operator.
    static func shared(_ sql: String, _ arguments: [(any PostgresDynamicTypeEncodable)?]) -> PostgresQuery {
        var numbered = ""
        var count = 0
        for character in sql {
            if character == "?" {
                count += 1
                numbered += "$\(count)"
            } else {
                numbered.append(character)
            }
        }
        precondition(count == arguments.count, "\(count) placeholders, \(arguments.count) arguments: \(sql)")
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            if let argument { bindings.append(argument) } else { bindings.appendNull() }
        }
        return PostgresQuery(unsafeSQL: numbered, binds: bindings)
    }
}
