import Foundation

/// `application/x-www-form-urlencoded` bodies (Twilio, Slack interactivity), in order, repeats kept.
public enum FormEncoding {
    /// Decodes `a=1&b=x+y%21` into `[("a","1"), ("b","x y!")]`; nil if a byte sequence is not UTF-8.
    public static func decode(_ body: Data) -> [(String, String)]? {
        guard let text = String(data: body, encoding: .utf8) else { return nil }
        var pairs: [(String, String)] = []
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = unescape(kv[0]), let value = unescape(kv.count > 1 ? kv[1] : "") else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }

    /// Encodes pairs in the given order.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._*")

    public static func escape(_ s: String) -> String {
        (s.addingPercentEncoding(withAllowedCharacters: unreserved.union(CharacterSet(charactersIn: " "))) ?? s)
            .replacingOccurrences(of: " ", with: "+")
    }

    private static func unescape(_ s: Substring) -> String? {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
