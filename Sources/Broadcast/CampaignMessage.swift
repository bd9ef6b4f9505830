import ChannelKit
import Foundation
import UniversalInbox

/// One recipient's message: the campaign's content in the form their channel takes, filled in for them.
enum CampaignMessage {
    /// The content for `channel`: a WhatsApp template when the campaign has one, an image with its
    /// caption, or text; `{{…}}` variables filled from `values`.
    static func content(_ content: CampaignContent, channel: String, values: [String: String]) -> MessageContent {
        if channel == ChannelKind.whatsapp.rawValue, var template = content.template {
            template.parameters = template.parameters.map { TemplateText.fill($0, values) }
            return MessageContent(kind: .template, template: template)
        }
        let text = content.text.map { TemplateText.fill($0, values) }
        if let url = content.imageUrl { return MessageContent(kind: .image, text: text, media: MediaReference(url: url)) }
        return .text(text ?? "")
    }

    /// A stable idempotency key for one recipient or batch of a campaign, as a UUID (LINE's retry
    /// key must be one): the same recipient or batch always gets the same key.
    static func key(_ parts: String...) -> String {
        let hex = Array(Signatures.sha256Hex(Data(parts.joined(separator: "/").utf8)).prefix(32))
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }
        return groups.joined(separator: "-")
    }
}
