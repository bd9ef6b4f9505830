import ChannelKit
import Foundation

/// The webhook body LINE posts: `{destination, events[]}` (docs/platforms.md §1).
struct LINEWebhookPayload: Decodable {
    var destination: String?
    var events: [EachEvent<LINEEvent>]
}

struct LINEEvent: Decodable {
    var type: String
    var timestamp: Int64
    var webhookEventId: String?
    var replyToken: String?
    var source: Source?
    var message: Message?
    var postback: Postback?

    struct Source: Decodable {
        var type: String
        var userId: String?
        var groupId: String?
        var roomId: String?
    }

    struct Message: Decodable {
        var id: FlexibleID
        var type: String
        var text: String?
        var fileName: String?
        var fileSize: Int?
        var title: String?
        var address: String?
        var latitude: Double?
        var longitude: Double?
        var packageId: FlexibleID?
        var stickerId: FlexibleID?
        var contentProvider: ContentProvider?
    }

    struct ContentProvider: Decodable {
        var type: String
        var originalContentUrl: String?
        var previewImageUrl: String?
    }

    struct Postback: Decodable {
        var data: String
    }
}

/// `{sentMessages:[{id}]}` from reply/push.
struct LINESendAnswer: Decodable {
    struct Sent: Decodable { var id: String }
    var sentMessages: [Sent]?
}

/// `{message, details[]}` on errors.
struct LINEErrorAnswer: Decodable {
    var message: String
}

struct LINEProfileAnswer: Decodable {
    var displayName: String
}

struct LINETranscodingAnswer: Decodable {
    var status: String
}

/// Outbound message objects.
struct LINEOutMessage: Encodable {
    var type: String
    var text: String?
    var originalContentUrl: String?
    var previewImageUrl: String?
    var packageId: String?
    var stickerId: String?
    var quickReply: QuickReply?

    /// Quick-reply buttons under the message; a tap sends a postback event with `data`.
    struct QuickReply: Encodable {
        struct Item: Encodable {
            struct Action: Encodable {
                var type = "postback"
                var label: String
                var data: String
                var displayText: String
            }
            var type = "action"
            var action: Action
        }
        var items: [Item]
    }
}

struct LINEReplyBody: Encodable {
    var replyToken: String
    var messages: [LINEOutMessage]
}

struct LINEMulticastBody: Encodable {
    var to: [String]
    var messages: [LINEOutMessage]
}

struct LINEBroadcastBody: Encodable {
    var messages: [LINEOutMessage]
}

struct LINEPushBody: Encodable {
    var to: String
    var messages: [LINEOutMessage]
}
