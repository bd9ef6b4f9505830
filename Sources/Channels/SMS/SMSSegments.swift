/// How many SMS parts a text costs: GSM-7 (160 septets alone, 153 per part when split; some
/// characters cost two) unless any character is outside GSM-7, then UCS-2 (70 alone, 67 per part).
public enum SMSSegments {
    public enum Encoding: String, Sendable, Codable {
        case gsm7
        case ucs2
    }

    static let basic: Set<Character> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
    static let extended: Set<Character> = Set("^{}\\[~]|€\u{0C}")

    public static func count(_ text: String) -> (encoding: Encoding, segments: Int) {
        var septets = 0
        for character in text {
            if basic.contains(character) {
                septets += 1
            } else if extended.contains(character) {
                septets += 2
            } else {
                let units = text.utf16.count
                return (.ucs2, units <= 70 ? 1 : (units + 66) / 67)
            }
        }
        return (.gsm7, septets <= 160 ? 1 : (septets + 152) / 153)
    }
}
