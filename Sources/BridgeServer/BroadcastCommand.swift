import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where a running bridge is and how to authenticate to it.
struct RemoteOptions: ParsableArguments {
    @Option(help: "The bridge's address.") var url = "http://127.0.0.1:8080"
    @Option(help: "An API token (default: $BRIDGE_TOKEN, then ./data/admin-token).") var token: String?

    func resolvedToken() throws -> String {
        if let token { return token }
        if let token = ProcessInfo.processInfo.environment["BRIDGE_TOKEN"], !token.isEmpty { return token }
        if let data = FileManager.default.contents(atPath: "data/admin-token") {
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        throw ValidationError("give --token, set BRIDGE_TOKEN, or run where data/admin-token is")
    }

    /// Calls the API; a refusal becomes an error that says what the bridge said.
    func call(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(try resolvedToken())")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        guard (200..<300).contains(response.status.code) else {
            let error = object["error"] as? [String: Any]
            throw StartupError(description: "\(response.status.code) \(error?["code"] as? String ?? ""): \(error?["message"] as? String ?? "")")
        }
        return object
    }
}

extension Bridge {
    /// `bridge broadcast send`: a campaign from the command line, with a progress bar.
    struct BroadcastCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "broadcast", abstract: "Send campaigns.", subcommands: [Send.self])

        struct Send: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create and start a campaign on a running bridge, show its progress, then its report.")
            @OptionGroup var remote: RemoteOptions
            @Option(help: "The campaign's name.") var name: String
            @Option(help: "The message; may use {{contact.name|fallback}}.") var text: String?
            @Option(help: "An image (https URL).") var image: String?
            @Option(help: "A WhatsApp template: name:language[:param,param…].") var template: String?
            @Option(help: "Messenger/Instagram tag outside 24 hours (CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE, ACCOUNT_UPDATE).")
            var messengerTag: String?
            @Option(help: "Send on this channel only (default: each contact's last used).") var channel: String?
            @Option(help: "Contact ids, comma-separated.") var contacts: String?
            @Option(name: .customLong("tag"), help: "Segment: contacts with a ticket tagged so. Repeatable.") var tags: [String] = []
            @Option(help: "Segment: contacts with an identity on this channel.") var segmentChannel: String?
            @Option(name: .customLong("field"), help: "Segment: a contact field, key=value. Repeatable.") var fields: [String] = []
            @Flag(help: "Segment: only contacts who have not opted out or blocked.") var optedIn = false
            @Option(help: "Send at this time (ISO-8601) instead of now.") var at: String?
            @Flag(help: "Start and return without waiting.") var noWait = false

            func run() async throws {
                var audience: [String: Any] = [:]
                if let contacts { audience["contactIds"] = contacts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
                if !tags.isEmpty { audience["tags"] = tags }
                if let segmentChannel { audience["channel"] = segmentChannel }
                if !fields.isEmpty {
                    audience["contactFields"] = Dictionary(fields.compactMap { pair -> (String, String)? in
                        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                        return parts.count == 2 ? (parts[0], parts[1]) : nil
                    }, uniquingKeysWith: { $1 })
                }
                if optedIn { audience["optedIn"] = true }
                var content: [String: Any] = [:]
                if let text { content["text"] = text }
                if let image { content["imageUrl"] = image }
                if let messengerTag { content["messengerTag"] = messengerTag }
                if let template {
                    let parts = template.split(separator: ":", maxSplits: 2).map(String.init)
                    guard parts.count >= 2 else { throw ValidationError("--template is name:language[:param,param…]") }
                    content["template"] = ["name": parts[0], "language": parts[1], "parameters": parts.count == 3 ? parts[2].split(separator: ",").map(String.init) : []]
                }
                var body: [String: Any] = ["name": name, "audience": audience, "content": content, "start": at == nil]
                if let channel { body["channel"] = channel }
                if let at { body["scheduledAt"] = at }
                let campaign = try await remote.call(.POST, "/api/v1/campaigns", json: body)
                guard let id = campaign["id"] as? Int else { throw StartupError(description: "the bridge did not return a campaign") }
                print("campaign \(id) \(campaign["status"] as? String ?? "")")
                if noWait || at != nil { return }
                let bar = ProgressBar()
                while true {
                    let now = try await remote.call(.GET, "/api/v1/campaigns/\(id)")
                    let progress = now["progress"] as? [String: Int] ?? [:]
                    bar.draw(progress: progress, total: now["total"] as? Int ?? 0)
                    if ["completed", "cancelled", "paused"].contains(now["status"] as? String ?? "") {
                        bar.finish(status: now["status"] as? String ?? "")
                        break
                    }
                    try await Task.sleep(for: .milliseconds(500))
                }
                let report = try await remote.call(.GET, "/api/v1/campaigns/\(id)/report")
                print(ProgressBar.table(report))
            }
        }
    }

    /// `bridge message send`: one message to one contact.
    struct MessageCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "message", abstract: "Individual messages.", subcommands: [Send.self])

        struct Send: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Send one message to a contact on a running bridge.")
            @OptionGroup var remote: RemoteOptions
            @Option(help: "The contact's id.") var contact: Int
            @Option(help: "The message.") var text: String
            @Option(help: "One of the contact's channels (default: the one they last used).") var channel: String?

            func run() async throws {
                var body: [String: Any] = ["text": text]
                if let channel { body["channel"] = channel }
                let message = try await remote.call(.POST, "/api/v1/contacts/\(contact)/messages", json: body)
                print("message \(message["id"] as? Int ?? 0) queued on \(message["channel"] as? String ?? "") in ticket \(message["ticketId"] as? Int ?? 0)")
            }
        }
    }
}

/// A one-line progress bar on standard error.
final class ProgressBar {
    private var drawn = false

    func draw(progress: [String: Int], total: Int) {
        let done = ["sent", "delivered", "read", "failed", "skipped", "cancelled"].reduce(0) { $0 + (progress[$1] ?? 0) }
        let fraction = total <= 0 ? 1 : min(1, max(0, Double(done) / Double(total)))
        let width = 30
        let filled = Int((fraction * Double(width)).rounded(.down))
        let sent = (progress["sent"] ?? 0) + (progress["delivered"] ?? 0) + (progress["read"] ?? 0)
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + String(format: "%3.0f%%", fraction * 100) + " \(done)/\(total)  sent \(sent)  failed \(progress["failed"] ?? 0)  skipped \(progress["skipped"] ?? 0)"
        FileHandle.standardError.write(Data(("\r" + line).utf8))
        drawn = true
    }

    func finish(status: String) {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        print("campaign \(status)")
    }

    /// The report as a plain table.
    static func table(_ report: [String: Any]) -> String {
        var lines = ["channel      sent  delivered  read  failed  skipped  pending"]
        for row in report["channels"] as? [[String: Any]] ?? [] {
            let cells = ["sent", "delivered", "read", "failed", "skipped", "pending"].map { String(row[$0] as? Int ?? 0) }
            lines.append((row["channel"] as? String ?? "").padding(toLength: 10, withPad: " ", startingAt: 0) + " " + cells.map { $0.leftPadded(6) }.joined(separator: "  "))
        }
        for reason in report["reasons"] as? [[String: Any]] ?? [] {
            lines.append("  \(reason["count"] as? Int ?? 0) \(reason["status"] as? String ?? ""): \(reason["reason"] as? String ?? "")")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
