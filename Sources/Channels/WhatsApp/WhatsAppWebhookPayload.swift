import Foundation

/// `{object:"whatsapp_business_account", entry[].changes[].value}` (docs/platforms.md §2).
struct WhatsAppWebhookPayload: Decodable {
    var object: String
    var entry: [Entry]

    struct Entry: Decodable {
        var id: String
        var changes: [Change]
    }

    struct Change: Decodable {
        var field: String
        var value: Value
    }

    struct Value: Decodable {
        var metadata: Metadata?
        var contacts: [Contact]?
        var messages: [Message]?
        var statuses: [Status]?
    }

    struct Metadata: Decodable {
        var phone_number_id: String
    }

    struct Contact: Decodable {
        struct Profile: Decodable { var name: String? }
        var profile: Profile?
        var wa_id: String?
        var user_id: String?
    }

    struct Message: Decodable {
        var from: String
        var id: String
        var timestamp: String
        var type: String
        var text: Text?
        var image: Media?
        var video: Media?
        var audio: Media?
        var document: Media?
        var sticker: Media?
        var location: WALocation?
        var interactive: Interactive?
        var button: Button?
    }

    struct Text: Decodable { var body: String }

    struct Media: Decodable {
        var id: String
        var mime_type: String?
        var sha256: String?
        var caption: String?
        var filename: String?
    }

    struct WALocation: Decodable {
        var latitude: Double
        var longitude: Double
        var name: String?
        var address: String?
    }

    struct Interactive: Decodable {
        struct Reply: Decodable {
            var id: String
            var title: String
        }
        var type: String
        var button_reply: Reply?
        var list_reply: Reply?
    }

    struct Button: Decodable {
        var payload: String?
        var text: String
    }

    struct Status: Decodable {
        struct StatusError: Decodable {
            var code: Int
            var title: String?
            var message: String?
        }
        var id: String
        var status: String
        var timestamp: String
        var recipient_id: String?
        var errors: [StatusError]?
    }
}

/// `{messages:[{id}]}` on a successful send.
struct WhatsAppSendAnswer: Decodable {
    struct Sent: Decodable { var id: String }
    var messages: [Sent]?
}

/// `GET /{media-id}`.
struct WhatsAppMediaAnswer: Decodable {
    var url: String
    var mime_type: String?
    var sha256: String?
    var file_size: Int?
}
