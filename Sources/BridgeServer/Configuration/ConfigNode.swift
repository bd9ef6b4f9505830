import Foundation

/// A bad configuration, naming the key at fault, e.g. `channels[1].channelSecret is required`.
struct ConfigError: Error, CustomStringConvertible, Equatable {
    var key: String
    var problem: String
    var description: String { key.isEmpty ? problem : "\(key) \(problem)" }
}

/// A position in the parsed YAML with its key path, so every error can say where it is.
/// String values have `${ENV_NAME}` replaced from the environment.
struct ConfigNode {
    let value: Any?
    let path: String
    let environment: [String: String]

    func child(_ key: String) -> ConfigNode {
        let dict = value as? [String: Any]
        return ConfigNode(value: dict?[key], path: path.isEmpty ? key : "\(path).\(key)", environment: environment)
    }

    var isPresent: Bool { value != nil && !(value is NSNull) }

    /// Refuses keys outside `allowed`, catching typos such as `chanelSecret`.
    func checkKeys(_ allowed: Set<String>) throws {
        guard isPresent else { return }
        guard let dict = value as? [String: Any] else { throw ConfigError(key: path, problem: "must be a mapping") }
        if let unknown = dict.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ConfigError(
                key: path.isEmpty ? unknown : "\(path).\(unknown)",
                problem: "is not a known setting (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func items() throws -> [ConfigNode] {
        guard isPresent else { return [] }
        guard let list = value as? [Any] else { throw ConfigError(key: path, problem: "must be a list") }
        return list.indices.map { ConfigNode(value: list[$0], path: "\(path)[\($0)]", environment: environment) }
    }

    func string() throws -> String? {
        guard isPresent else { return nil }
        let raw: String
        switch value {
        case let s as String: raw = s
        case let i as Int: raw = String(i)
        case let d as Double: raw = String(d)
        case let b as Bool: raw = b ? "true" : "false"
        default: throw ConfigError(key: path, problem: "must be a string")
        }
        return try substitute(raw)
    }

    func requiredString() throws -> String {
        guard let s = try string(), !s.isEmpty else { throw ConfigError(key: path, problem: "is required") }
        return s
    }

    func int() throws -> Int? {
        guard let s = try string() else { return nil }
        guard let i = Int(s) else { throw ConfigError(key: path, problem: "must be a whole number, got \"\(s)\"") }
        return i
    }

    func bool() throws -> Bool? {
        guard let s = try string()?.lowercased() else { return nil }
        switch s {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ConfigError(key: path, problem: "must be true or false, got \"\(s)\"")
        }
    }

    func double() throws -> Double? {
        guard let s = try string() else { return nil }
        guard let d = Double(s), d > 0 else { throw ConfigError(key: path, problem: "must be a positive number, got \"\(s)\"") }
        return d
    }

    /// A duration: seconds as a number, or a number with `s`, `m`, `h` or `d`.
    func duration() throws -> TimeInterval? {
        guard let s = try string()?.trimmingCharacters(in: .whitespaces) else { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        // At most ten years: a longer (or infinite, or NaN) duration is a typo, and would overflow
        // the millisecond arithmetic it feeds.
        let limit = 10 * 366 * 86400.0
        if let unit = s.last, let factor = units[unit], let n = Double(s.dropLast()), n >= 0, n * factor <= limit { return n * factor }
        if let n = Double(s), n >= 0, n <= limit { return n }
        throw ConfigError(key: path, problem: "must be a duration such as 30s, 15m, 36h or 14d (at most 3660d), got \"\(s)\"")
    }

    /// A whole number above 0.
    func positiveInt() throws -> Int? {
        guard let n = try int() else { return nil }
        guard n > 0 else { throw ConfigError(key: path, problem: "must be more than 0, got \(n)") }
        return n
    }

    /// A duration above 0 and at most a day (see `duration`): a timeout, never infinite.
    func timeout() throws -> TimeInterval? {
        guard let d = try duration() else { return nil }
        guard d > 0, d <= 86400 else { throw ConfigError(key: path, problem: "must be longer than 0 and at most 1d") }
        return d
    }

    /// An http(s) URL without a trailing slash.
    func url() throws -> String? {
        guard let s = try string() else { return nil }
        guard let u = URL(string: s), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
            throw ConfigError(key: path, problem: "must be an http or https URL, got \"\(s)\"")
        }
        return s.hasSuffix("/") ? String(s.dropLast()) : s
    }

    private func substitute(_ raw: String) throws -> String {
        var out = ""
        var rest = raw[...]
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigError(key: path, problem: "has an unclosed ${")
            }
            let name = String(rest[start.upperBound..<end])
            guard let value = environment[name] else {
                throw ConfigError(key: path, problem: "refers to ${\(name)}, which is not set in the environment")
            }
            out += value
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
