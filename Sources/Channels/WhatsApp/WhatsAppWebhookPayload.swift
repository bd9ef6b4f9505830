import ChannelKit
import Foundation

/// `{object:"whatsapp_business_account", entry[].changes[].value}` (docs/platforms.md §2).
struct WhatsAppWebhookPayload: Decodable {
    var object: String
    var entry: [Entry]

    struct Entry: Decodable {
        var id: FlexibleID
        var changes: [EachEvent<Change>]
    }

    struct Change: Decodable {
        var field: String
        var value: Value
    }

    /// The messages and statuses of one change are read one by one (see `EachEvent`).
    struct Value: Decodable {
        var metadata: Metadata?
        var contacts: [Contact]?
        var messages: [EachEvent<Message>]?
        var statuses: [EachEvent<Status>]?
    }

    struct Metadata: Decodable {
        var phone_number_id: FlexibleID
    }

    struct Contact: Decodable {
        struct Profile: Decodable { var name: String? }
        var profile: Profile?
        var wa_id: String?
        /// A business-scoped user id, sent with (or, for users without a shared phone number,
        /// instead of) `wa_id`.
        var user_id: String?
    }

    /// A customer's message: `from` is the phone number (wa_id); users who have not shared it are
    /// identified by `from_user_id` (business-scoped) alone.
    struct Message: Decodable {
        var from: String?
        var from_user_id: String?
        var id: String
        var timestamp: FlexibleID
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
            var code: FlexibleID
            var title: String?
            var message: String?
        }
        var id: String
        var status: String
        var timestamp: FlexibleID
        var recipient_id: String?
        var recipient_user_id: String?
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
