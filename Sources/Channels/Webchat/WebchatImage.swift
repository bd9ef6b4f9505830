import ChannelKit
import Foundation

/// Images on the website widget, both ways.
///
/// Visitor to agent: the widget posts the bytes, the bridge checks them and keeps them in its own
/// store (the platforms' media live on the platform; a visitor's live nowhere else), and the
/// message is filed through the same ingest as text with the stored file's id as its media's
/// `platformId`: the follow-up worker copies it into the attachment store like any channel's
/// media, and the inbox shows it like theirs. The bytes never go into the message row.
///
/// Agent to visitor: only images the agents uploaded to the bridge (`/media/<id>/<signature>`),
/// which the bridge can serve to the visitor itself; an image elsewhere on the web would make the
/// visitor's browser call a third party, which the widget's policy refuses.
extension WebchatAdapter {
    /// The largest image a visitor may send: 5 MiB, what WhatsApp takes, enough for a phone's photo.
    public static let maxImageBytes = 5 << 20

    /// The image message a visitor's upload becomes: the request's token names the visitor, `id` is
    /// the widget's client id (the event id under the visitor's, as for text, so a retried upload is
    /// filed once), `storedId` names the checked bytes kept by the bridge.
    public func imageEvent(_ request: WebhookRequest, id: String, storedId: String, mimeType: String, size: Int) throws(WebhookError) -> InboundEvent {
        let visitorId = try visitorId(request)
        let post = WebchatPost(type: "message", id: id, text: "-")
        var event = try post.event(visitorId: visitorId, receivedAt: request.receivedAt)
        event.message?.content = MessageContent(kind: .image, media: MediaReference(platformId: storedId, mimeType: mimeType, size: size))
        return event
    }

    /// The id and signature of an image the agents uploaded to the bridge, from its link
    /// (`…/media/<id>/<signature>`), or nil when `url` is not such a link. Whether the signature
    /// holds is the upload store's to check.
    public static func uploadLink(_ url: String?) -> (id: String, signature: String)? {
        guard let url, let path = URLComponents(string: url)?.path else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[parts.count - 3] == "media" else { return nil }
        let id = String(parts[parts.count - 2])
        let signature = String(parts[parts.count - 1])
        func hex(_ text: String, _ count: Int) -> Bool {
            text.utf8.count == count && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        return hex(id, 32) && hex(signature, 64) ? (id, signature) : nil
    }
}
