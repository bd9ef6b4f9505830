import ArgumentParser
import AsyncHTTPClient
import ChannelKit
import Foundation
import LINEChannel
import MessengerChannel
import SMSChannel
import SlackChannel
import WeChatChannel
import Logging
import UnixSignals
import NIOCore
import PlatformStandIns
import UniversalInbox
import WhatsAppChannel

extension Bridge {
    /// `bridge demo`: the whole loop in a minute, with local stand-ins for the platform APIs.
    struct Demo: AsyncParsableCommand {
        /// The demo's admin token (printed in its curl commands; the demo's data is throwaway).
        static let adminToken = "demo-admin-token-0123456789abcdef"
        /// The demo agent's login for the web inbox (printed too; throwaway like the rest).
        static let agentEmail = "agent@demo.example"
        static let agentPassword = "demo-inbox-password"
        static let configuration = CommandConfiguration(
            abstract: "Start the bridge with stand-in platform APIs, print the inbox's address, play signed conversations into it, and show how to reply.")

        @Option(help: "Port for the bridge.") var port = 8080
        @Option(help: "Data directory for the demo database (default: a new temporary directory).") var dataDir: String?
        @Flag(help: "Play the conversations, send one agent reply through, print the inbox and exit.") var once = false
        @Option(help: "Seconds between the customers' messages that arrive after the inbox address is printed (0: all at once; --once plays them at once).")
        var pace: Double = 8

        func validate() throws {
            guard pace.isFinite, pace >= 0, pace <= 600 else { throw ValidationError("--pace must be between 0 and 600 seconds, got \(pace)") }
        }

        func run() async throws {
            let logger = Logs.bootstrap()
            let line = PlatformStandIn(responder: StandInPlatforms.line(displayNames: [DemoScript.lineUser: "Kenji"]))
            let whatsapp = PlatformStandIn(responder: StandInPlatforms.whatsapp())
            let messenger = PlatformStandIn(responder: StandInPlatforms.messenger(displayNames: [DemoScript.messengerUser: "Lena Vogel"]))
            try await line.start()
            try await whatsapp.start()
            let sms = PlatformStandIn(responder: StandInPlatforms.sms())
            try await messenger.start()
            try await sms.start()
            let wechat = PlatformStandIn(responder: StandInPlatforms.wechat())
            try await wechat.start()
            let slack = PlatformStandIn(responder: StandInPlatforms.slack())
            try await slack.start()
            let dir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("bridge-demo-\(UUID().uuidString.prefix(8))").path
            var config = BridgeConfig()
            config.server.port = port
            config.databasePath = dir + "/bridge.sqlite"
            config.adminToken = Self.adminToken
            config.channels = [
                .line(LINEConfiguration(id: "main", channelSecret: DemoScript.lineSecret, accessToken: "demo-line-token", apiBaseURL: line.baseURL)),
                .whatsapp(WhatsAppConfiguration(
                    id: "main", appSecret: DemoScript.whatsappSecret, verifyToken: "demo-verify", accessToken: "demo-wa-token",
                    phoneNumberId: DemoScript.whatsappPhoneNumberId, apiBaseURL: whatsapp.baseURL,
                    businessAccountId: "102290129340398")),  // the stand-in lists its sample templates
                .messenger(MessengerConfiguration(
                    kind: .messenger, id: "main", appSecret: DemoScript.messengerSecret, verifyToken: "demo-verify",
                    pageAccessToken: "demo-page-token", pageId: DemoScript.messengerPage, apiBaseURL: messenger.baseURL)),
                .messenger(MessengerConfiguration(
                    kind: .instagram, id: "main", appSecret: DemoScript.messengerSecret, verifyToken: "demo-verify",
                    pageAccessToken: "demo-page-token", pageId: DemoScript.messengerPage, apiBaseURL: messenger.baseURL)),
                .sms(SMSConfiguration(
                    id: "main", accountSid: "ACdemo", authToken: DemoScript.smsToken, from: "+15552223333", apiBaseURL: sms.baseURL)),
                .wechat(WeChatConfiguration(
                    id: "main", appId: "wxdemo0000000000", appSecret: "demo-wechat-secret", token: DemoScript.wechatToken, apiBaseURL: wechat.baseURL)),
            ]
            config.consoles = [
                SlackConfiguration(
                    id: "main", signingSecret: DemoScript.slackSecret, botToken: "xoxb-demo", channel: "C0SUPPORT", apiBaseURL: slack.baseURL,
                    agents: ["U0AGENT": "Alice"], rateLimit: RateLimit(perSecond: 50))
            ]
            // The stand-ins listen on loopback, which the egress policy refuses: allow exactly their ports.
            config.egress.allow = [line, whatsapp, messenger, sms, wechat, slack].compactMap { standIn in
                URL(string: standIn.baseURL)?.port.flatMap { EgressAllowEntry("127.0.0.1:\($0)") }
            }
            let bridge = try await RunningBridge.start(config: config, logger: logger, shutdownSignals: [.sigterm, .sigint])
            // Before the conversations, so that they are news to the agent (alerts start with the first agent).
            try await Self.addAgent(to: bridge.inbox, cost: config.bcryptCost)
            let script = DemoScript(bridgeURL: bridge.baseURL, client: .shared)
            // One conversation waits in the inbox; the others arrive after the address is printed,
            // so that a newcomer who signs in sees them come in.
            let opened = try await script.play(script.opening())
            let api = "\(bridge.baseURL)/api/v1"
            let auth = "-H 'Authorization: Bearer \(Self.adminToken)'"
            print("""

                Omnichannel bridge demo
                  bridge:            \(bridge.baseURL)  (data in \(dir))
                  LINE stand-in:     \(line.baseURL)
                  WhatsApp stand-in: \(whatsapp.baseURL)
                  Messenger/Instagram stand-in: \(messenger.baseURL)
                  SMS stand-in:      \(sms.baseURL)
                  WeChat stand-in:   \(wechat.baseURL)
                  Slack stand-in:    \(slack.baseURL)  (the agent console: each ticket is a thread in C0SUPPORT)

                Open the web inbox in a browser and sign in:
                  \(bridge.baseURL)/
                  e-mail \(Self.agentEmail), password \(Self.agentPassword)

                Or look at the inbox with the API:
                  curl -s \(auth) \(api)/tickets
                  curl -s \(auth) \(api)/tickets/1/messages
                Reply to a customer (goes out through the stand-in platform API):
                  curl -s \(auth) -H 'Content-Type: application/json' -d '{"text":"It ships today!"}' \(api)/tickets/1/messages
                Resolve a ticket:
                  curl -s -X PATCH \(auth) -H 'Content-Type: application/json' -d '{"status":"resolved"}' \(api)/tickets/1
                Metrics:  curl -s \(auth) \(bridge.baseURL)/metrics

                """)
            let summary = " on LINE (Kenji), WhatsApp and SMS (Ana, one ticket), Messenger and Instagram (Lena), WeChat"
            if once {
                let arrived = try await script.play(script.arrivals())
                print("  played \(opened + arrived) signed webhooks from customers\(summary)")
                try await replyAndConfirm(bridge: bridge, script: script, whatsapp: whatsapp)
                try await replyFromSlack(bridge: bridge, script: script, slack: slack, line: line)
                await bridge.stop()
            } else {
                let pace = Duration.milliseconds(Int64(pace * 1000))
                print(pace > .zero ? "Customers are writing now, one message every \(self.pace.formatted()) s; watch them arrive in the inbox. Press Ctrl-C to stop." : "Press Ctrl-C to stop.")
                fflush(nil)  // into a file or a pipe too, the address shows before the customers write
                let customers = Task {
                    do {
                        let arrived = try await script.play(script.arrivals(), pace: pace) { step in
                            print("  \(Date().formatted(date: .omitted, time: .standard))  \(step.says)")
                            fflush(nil)
                        }
                        print("  played \(opened + arrived) signed webhooks from customers\(summary)")
                        fflush(nil)
                    } catch is CancellationError {
                        // Ctrl-C before every customer wrote.
                    } catch {
                        logger.error("demo: a customer's webhook could not be posted", metadata: ["error": "\(error)"])
                    }
                }
                try await bridge.wait()
                customers.cancel()
            }
            for standIn in [line, whatsapp, messenger, sms, wechat, slack] { await standIn.stop() }
        }

        /// The agent who signs in to the web inbox; kept when `--data-dir` already has it.
        static func addAgent(to inbox: Inbox, cost: Int) async throws {
            guard try await inbox.credentials(email: agentEmail) == nil else { return }
            _ = try await inbox.createAgent(
                NewAgent(email: agentEmail, name: "Demo Agent", role: .agent, passwordHash: try Passwords.hash(agentPassword, cost: cost)))
        }

        /// Alice answers Kenji's LINE ticket from its Slack thread; the reply goes out on LINE.
        private func replyFromSlack(bridge: RunningBridge, script: DemoScript, slack: PlatformStandIn, line: PlatformStandIn) async throws {
            let page = try await bridge.inbox.listTickets(TicketQuery(channel: "line"))
            guard let ticket = page.items.first else { throw StartupError(description: "demo: no LINE ticket was created") }
            var thread: String?
            for _ in 0..<100 {
                thread = try await bridge.inbox.consoleThread(account: "slack/main", ticketId: ticket.id)
                if thread != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            guard let thread else { throw StartupError(description: "demo: the LINE ticket never reached Slack") }
            _ = try await script.postSlackThreadReply(thread: thread, text: "Hi Kenji, your order left the warehouse today.")
            for _ in 0..<100 where line.requests.filter({ $0.path.hasPrefix("/v2/bot/message/reply") || $0.path.hasPrefix("/v2/bot/message/push") }).isEmpty {
                try await Task.sleep(for: .milliseconds(50))
            }
            print("  Slack thread posts: \(slack.requests(to: "/chat.postMessage").count); Alice's Slack reply reached LINE: \(line.requests.contains { $0.path.hasPrefix("/v2/bot/message/reply") || $0.path.hasPrefix("/v2/bot/message/push") })")
        }

        /// Sends an agent reply to the WhatsApp ticket, waits for it at the stand-in, plays the
        /// platform's `delivered` receipt, and prints the ticket's messages.
        private func replyAndConfirm(bridge: RunningBridge, script: DemoScript, whatsapp: PlatformStandIn) async throws {
            let page = try await bridge.inbox.listTickets(TicketQuery(channel: "whatsapp"))
            guard let ticket = page.items.first else { throw StartupError(description: "demo: no WhatsApp ticket was created") }
            // Ana wrote last by SMS; the agent answers on WhatsApp, where the platform confirms delivery.
            let reply = try await bridge.inbox.queueReply(ticketId: ticket.id, content: .text("Your order #1234 ships today."), channel: "whatsapp") { _ in nil }
            var sent: StoredMessage?
            for _ in 0..<100 {
                sent = try await bridge.inbox.message(id: reply.id)
                if sent?.status == "sent" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            guard let wamid = sent?.platformMessageId else { throw StartupError(description: "demo: the reply was not sent") }
            _ = try await script.postWhatsApp(DemoScript.whatsappStatus(wamid, "delivered", at: Int64(Date().timeIntervalSince1970)))
            for message in try await bridge.inbox.messages(ticketId: ticket.id) ?? [] {
                print("  ticket \(ticket.id) [\(message.direction.rawValue)] \(message.channel) \(message.status): \(message.text)")
            }
            print("  requests at the WhatsApp stand-in: \(whatsapp.requests(to: "/v21.0/\(DemoScript.whatsappPhoneNumberId)/messages").count)")
        }
    }
}
