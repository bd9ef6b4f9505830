import ChannelKit
import Foundation

/// `{object: page|instagram, entry[]{id, time, messaging[]}}` (docs/platforms.md §3).
struct MessengerWebhookPayload: Decodable {
    var object: String
    var entry: [Entry]

    struct Entry: Decodable {
        var id: FlexibleID
        /// When Meta sent the batch (ms); the time of events that carry none of their own.
        var time: Int64?
        var messaging: [EachEvent<Messaging>]?
    }

    /// One event. Meta leaves out `sender` on policy-enforcement notices, identifies chat-plugin
    /// guests by `sender.user_ref` instead of `sender.id`, and sends receipts and account-linking
    /// events without a `timestamp`.
    struct Messaging: Decodable {
        struct Party: Decodable {
            var id: FlexibleID?
            var user_ref: String?
        }
        var sender: Party?
        var recipient: Party?
        var timestamp: Int64?
        var message: Message?
        var postback: Postback?
        var delivery: Delivery?
        var read: Read?
    }

    struct Message: Decodable {
        var mid: String
        var text: String?
        var is_echo: Bool?
        var quick_reply: QuickReply?
        var attachments: [Attachment]?
        var sticker_id: FlexibleID?
    }

    struct QuickReply: Decodable { var payload: String }

    struct Attachment: Decodable {
        var type: String
        var payload: Payload?

        struct Payload: Decodable {
            var url: String?
            var coordinates: Coordinates?
            var sticker_id: FlexibleID?
        }

        struct Coordinates: Decodable {
            var lat: Double
            var long: Double
        }
    }

    struct Postback: Decodable {
        var mid: String?
        var title: String?
        var payload: String
    }

    struct Delivery: Decodable {
        var mids: [String]?
        var watermark: Int64
    }

    struct Read: Decodable {
        var watermark: Int64?
        var mid: String?
    }
}

/// Send API body.
struct MessengerSendBody: Encodable {
    /// A customer by page-scoped id, or a chat-plugin guest by `user_ref` (see `MessengerEventMapper.guestPrefix`).
    struct Recipient: Encodable {
        var id: String?
        var user_ref: String?

        init(_ recipient: String) {
            if recipient.hasPrefix(MessengerEventMapper.guestPrefix) {
                user_ref = String(recipient.dropFirst(MessengerEventMapper.guestPrefix.count))
            } else {
                id = recipient
            }
        }
    }
    struct Message: Encodable {
        var text: String?
        var attachment: Attachment?
        var quick_replies: [QuickReply]?
    }
    /// A quick reply (at most 13, titles up to 20 characters); a tap comes back as `quick_reply.payload`.
    struct QuickReply: Encodable {
        var content_type = "text"
        var title: String
        var payload: String
    }
    struct Attachment: Encodable {
        struct Payload: Encodable {
            var url: String
            var is_reusable: Bool
        }
        var type: String
        var payload: Payload
    }

    var recipient: Recipient
    var messaging_type: String
    var tag: String?
    var message: Message
}

/// `{recipient_id, message_id}`.
struct MessengerSendAnswer: Decodable {
    var message_id: String?
}

/// User Profile API answers (`first_name`/`last_name` on Messenger, `name`/`username` on Instagram).
struct MessengerProfileAnswer: Decodable {
    var first_name: String?
    var last_name: String?
    var name: String?
    var username: String?

    var displayName: String? {
        let full = [first_name, last_name].compactMap { $0 }.joined(separator: " ")
        return name ?? (full.isEmpty ? nil : full) ?? username
    }
}
