import Foundation

/// The normalised body of a message in either direction.
///
/// `kind` says which of the optional fields carry the content:
/// - `text`: `text`
/// - `image`, `video`, `audio`, `file`: `media` (and an optional caption in `text`)
/// - `location`: `location`
/// - `sticker`: `sticker` (and the sticker's text, if any, in `text`)
/// - `postback`: `postback` (the button/quick-reply payload) and its label in `text`
/// - `template`: `template` (outbound only: WhatsApp message templates)
/// - `unsupported`: `text` names what the platform sent, so nothing arrives silently
public struct MessageContent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case text, image, video, audio, file, location, sticker, postback, template, unsupported
    }

    public var kind: Kind
    public var text: String?
    public var media: MediaReference?
    public var location: Location?
    public var sticker: Sticker?
    public var postback: String?
    public var template: Template?
    /// Answers offered with a text (a satisfaction rating): buttons or quick replies where the
    /// platform has them, a numbered list in the text where it does not.
    public var choices: [Choice]?

    public init(
        kind: Kind, text: String? = nil, media: MediaReference? = nil, location: Location? = nil,
        sticker: Sticker? = nil, postback: String? = nil, template: Template? = nil, choices: [Choice]? = nil
    ) {
        self.kind = kind
        self.text = text
        self.media = media
        self.location = location
        self.sticker = sticker
        self.postback = postback
        self.template = template
        self.choices = choices
    }

    /// One answer: what the customer sees, and the postback the platform returns when it is tapped.
    public struct Choice: Sendable, Equatable, Codable {
        public var label: String
        public var payload: String

        public init(label: String, payload: String) {
            self.label = label
            self.payload = payload
        }
    }

    /// The text with the choices as a numbered list, for channels without buttons (SMS, WeChat):
    /// the customer answers with the number.
    public var textWithNumberedChoices: String {
        guard let choices, !choices.isEmpty else { return text ?? "" }
        let list = choices.enumerated().map { "\($0.offset + 1) = \($0.element.label)" }.joined(separator: "\n")
        return (text ?? "") + "\n" + list
    }

    /// The choice a customer's answer picks: a tapped button's postback, its number, or its label.
    public static func choice(answering answer: MessageContent, from choices: [Choice]) -> Choice? {
        if let payload = answer.postback, let match = choices.first(where: { $0.payload == payload }) { return match }
        guard let text = answer.text?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased(), !text.isEmpty else { return nil }
        // Any number a customer types: only 1...count picks (checked before any arithmetic on it).
        if let number = Int(text), number >= 1, number <= choices.count { return choices[number - 1] }
        return choices.first { $0.label.lowercased() == text }
    }

    public static func text(_ text: String) -> MessageContent { MessageContent(kind: .text, text: text) }

    /// Whether this content carries media that the bridge must copy into its own store: a platform
    /// media id, or a URL (platform media URLs expire and must never be forwarded).
    public var needsDownload: Bool { media?.platformId != nil || media?.url != nil }

    /// A one-line rendering for lists, previews and full-text search.
    public var summary: String {
        switch kind {
        case .text, .unsupported: return text ?? ""
        case .image, .video, .audio, .file:
            let label = media?.fileName ?? kind.rawValue
            return text.map { "[\(label)] \($0)" } ?? "[\(label)]"
        case .location:
            return "[location] " + [location?.title, location?.address].compactMap { $0 }.joined(separator: ", ")
        case .sticker: return "[sticker]" + (text.map { " \($0)" } ?? "")
        case .postback: return text ?? postback ?? ""
        case .template: return "[template \(template?.name ?? "")]"
        }
    }
}

/// Media attached to a message: either a platform media id that must be downloaded through the
/// platform's API (`platformId`), or a public URL (`url`, inbound from external providers or outbound).
public struct MediaReference: Sendable, Equatable, Codable {
    public var platformId: String?
    public var url: String?
    public var previewURL: String?
    public var mimeType: String?
    public var fileName: String?
    public var size: Int?
    public var sha256: String?

    public init(
        platformId: String? = nil, url: String? = nil, previewURL: String? = nil, mimeType: String? = nil,
        fileName: String? = nil, size: Int? = nil, sha256: String? = nil
    ) {
        self.platformId = platformId
        self.url = url
        self.previewURL = previewURL
        self.mimeType = mimeType
        self.fileName = fileName
        self.size = size
        self.sha256 = sha256
    }
}

public struct Location: Sendable, Equatable, Codable {
    public var latitude: Double
    public var longitude: Double
    public var title: String?
    public var address: String?

    public init(latitude: Double, longitude: Double, title: String? = nil, address: String? = nil) {
        self.latitude = latitude
        self.longitude = longitude
        self.title = title
        self.address = address
    }
}

public struct Sticker: Sendable, Equatable, Codable {
    public var packageId: String?
    public var stickerId: String

    public init(packageId: String? = nil, stickerId: String) {
        self.packageId = packageId
        self.stickerId = stickerId
    }
}

/// A pre-approved message template (WhatsApp): name, language code and body parameters in order.
public struct Template: Sendable, Equatable, Codable {
    public var name: String
    public var language: String
    public var parameters: [String]

    public init(name: String, language: String, parameters: [String] = []) {
        self.name = name
        self.language = language
        self.parameters = parameters
    }

    enum CodingKeys: String, CodingKey { case name, language, parameters }

    /// `parameters` may be left out (a template without variables).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), language: try c.decode(String.self, forKey: .language),
            parameters: try c.decodeIfPresent([String].self, forKey: .parameters) ?? [])
    }
}
