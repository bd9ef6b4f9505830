import ChannelKit

/// The Cloud API `/{phone-number-id}/messages` body.
struct WhatsAppSendBody: Encodable {
    var messaging_product = "whatsapp"
    var recipient_type = "individual"
    var to: String
    var type: String
    var text: Text?
    var image: Image?
    var template: TemplateBody?
    var interactive: Interactive?

    /// Reply buttons (at most 3, titles up to 20 characters); a tap comes back as a `button_reply`.
    struct Interactive: Encodable {
        struct Body: Encodable { var text: String }
        struct Action: Encodable { var buttons: [Button] }
        struct Button: Encodable {
            struct Reply: Encodable {
                var id: String
                var title: String
            }
            var type = "reply"
            var reply: Reply
        }
        var type = "button"
        var body: Body
        var action: Action
    }

    struct Text: Encodable {
        var body: String
        var preview_url: Bool
    }

    struct Image: Encodable {
        var link: String
        var caption: String?
    }

    struct TemplateBody: Encodable {
        struct Language: Encodable { var code: String }
        struct Component: Encodable {
            var type: String
            var parameters: [Parameter]
        }
        struct Parameter: Encodable {
            var type = "text"
            var text: String
        }
        var name: String
        var language: Language
        var components: [Component]?
    }

    init(to: String, content: MessageContent) {
        self.to = to
        switch content.kind {
        case .image:
            type = "image"
            image = Image(link: content.media?.url ?? "", caption: content.text)
        case .template:
            type = "template"
            let t = content.template ?? Template(name: "", language: "")
            template = TemplateBody(
                name: t.name, language: .init(code: t.language),
                components: t.parameters.isEmpty ? nil : [.init(type: "body", parameters: t.parameters.map { TemplateBody.Parameter(text: $0) })])
        default:
            if let choices = content.choices, !choices.isEmpty {
                type = "interactive"
                interactive = Interactive(
                    body: .init(text: content.text ?? ""),
                    action: .init(buttons: choices.prefix(3).map { .init(reply: .init(id: $0.payload, title: String($0.label.prefix(20)))) }))
            } else {
                type = "text"
                text = Text(body: content.text ?? "", preview_url: false)
            }
        }
    }
}

/// Classification of Graph API error codes (docs/platforms.md §2, from the pywa map).
enum WhatsAppErrorCodes {
    static let retryable: Set<Int> = [1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056]

    static func error(code: Int?, message: String, status: Int, retryAfter: Duration?) -> SendError {
        guard let code else { return PlatformAPI.error(forStatus: status, reason: message, retryAfter: retryAfter) }
        let name = "whatsapp_\(code)"
        if retryable.contains(code) { return .retryable(name, message, after: retryAfter) }
        switch code {
        case 131047:
            return .permanent("outside_window", "more than 24 hours since the customer's last message; send an approved template instead (\(message))")
        case 190:
            return .permanent(name, "the access token is invalid or expired: \(message)")
        default:
            return .permanent(name, message)
        }
    }
}
