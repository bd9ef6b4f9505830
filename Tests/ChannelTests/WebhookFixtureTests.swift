import ChannelKit
import SMSChannel
import Foundation
import Testing

/// Every fixture through verify and parse, plus what must be refused.
@Suite struct WebhookFixtureTests {
    @Test func fixturesExistForEveryChannel() {
        for kind in FixtureCase.webhookKinds {
            #expect(FixtureCase.all(kind).count >= 10, "fixtures/\(kind.rawValue) has too few cases")
            #expect(FixtureCase.all(kind).allSatisfy { (try? $0.expected) != nil }, "fixtures/\(kind.rawValue) has an unreadable expected file")
        }
    }

    @Test(arguments: FixtureCase.every)
    func verifiesAndParses(_ fixture: FixtureCase) throws {
        let adapter = TestAccounts.adapter(fixture.kind)
        let request = try fixture.request()
        try adapter.verify(request)
        let expected = try fixture.expected
        if let error = expected.error {
            #expect {
                try adapter.parse(request)
            } throws: { thrown in
                (thrown as? WebhookError)?.message == error && (thrown as? WebhookError)?.status == expected.status ?? 400
            }
        } else {
            let parsed = try adapter.parse(request)
            #expect(parsed.events == expected.events)
            let reasons = parsed.unreadable.map(\.reason)
            let wanted = expected.unreadable ?? []
            #expect(reasons.count == wanted.count, "unreadable: \(reasons)")
            for (reason, part) in zip(reasons, wanted) { #expect(reason.contains(part), "unreadable: \(reason)") }
            // Each unreadable event is kept as the platform's own text, not an empty placeholder.
            #expect(parsed.unreadable.allSatisfy { $0.raw.count > 2 })
        }
    }

    @Test(arguments: FixtureCase.every)
    func tamperedBodyIsRefused(_ fixture: FixtureCase) throws {
        // A visitor token names the visitor, not a body (a visitor may post anything as themselves):
        // WebchatAdapterTests checks that it holds for no other visitor and no other key instead.
        if fixture.kind == .webchat { return }
        if fixture.kind == .wechat, try fixture.expected.query?["encrypt_type"] == nil {
            // WeChat's plaintext mode signs token, timestamp and nonce only, not the body (safe mode
            // signs the body): here, a replayed signature with another timestamp must fail.
            var query = try fixture.expected.query ?? [:]
            query["timestamp"] = "1700000001"
            #expect(throws: WebhookError.self) { try TestAccounts.adapter(fixture.kind).verify(try fixture.request(query: query)) }
            return
        }
        var body = try fixture.body
        // Change one byte inside the payload, keep the original signature.
        let index = body.index(body.startIndex, offsetBy: body.count / 2)
        body[index] = body[index] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        #expect(throws: WebhookError.self) { try TestAccounts.adapter(fixture.kind).verify(try fixture.request(body: body)) }
    }

    @Test(arguments: FixtureCase.every)
    func wrongSecretIsRefused(_ fixture: FixtureCase) throws {
        let adapter = TestAccounts.adapter(fixture.kind, secret: "not-the-secret")
        #expect {
            try adapter.verify(try fixture.request())
        } throws: { error in
            (error as? WebhookError)?.status == 401
        }
    }

    @Test(arguments: FixtureCase.webhookKinds)
    func missingSignatureIsRefused(_ kind: ChannelKind) throws {
        let fixture = FixtureCase.all(kind)[0]
        let header = [ChannelKind.line: "X-Line-Signature", .sms: "X-Twilio-Signature", .wechat: "signature, timestamp or nonce", .webchat: "X-Visitor-Token"][kind] ?? "X-Hub-Signature-256"
        #expect(throws: WebhookError.unauthorized("missing \(header)")) {
            try TestAccounts.adapter(kind).verify(try fixture.request(headers: [:], query: [:]))
        }
    }

    @Test(arguments: FixtureCase.webhookKinds)
    func malformedSignatureEncodingIsRefused(_ kind: ChannelKind) throws {
        let fixture = FixtureCase.all(kind)[0]
        let headers =
            switch kind {
            case .line: ["x-line-signature": "%%%not-base64"]
            case .sms: ["x-twilio-signature": "%%%not-base64"]
            default: ["x-hub-signature-256": "sha256=zz-not-hex"]
            }
        let query = kind == .wechat ? ["signature": "zz-not-hex", "timestamp": "1", "nonce": "2"] : nil
        #expect(throws: WebhookError.self) { try TestAccounts.adapter(kind).verify(try fixture.request(headers: headers, query: query)) }
    }

    @Test(arguments: FixtureCase.webhookKinds)
    func emptyBodyIsMalformed(_ kind: ChannelKind) throws {
        let adapter = TestAccounts.adapter(kind)
        let request = TestAccounts.signedRequest(kind, body: Data())
        try adapter.verify(request)
        #expect(throws: WebhookError.malformed("empty body")) { try adapter.parse(request) }
    }

    @Test(arguments: [
        (ChannelKind.line, #"{"destination":"U0","events":[{"type":"message"#, "body is not valid JSON"),
        (ChannelKind.line, #"{"destination":"U0"}"#, "missing field events"),
        (ChannelKind.whatsapp, #"{"object":"page","entry":[]}"#, "object is page, expected whatsapp_business_account"),
        (ChannelKind.whatsapp, "not json at all", "body is not valid JSON"),
        (ChannelKind.messenger, #"{"object":"page"}"#, "missing field entry"),
        (ChannelKind.wechat, "<xml><Content>unclosed</xml>", "invalid XML: mismatched end of Content"),
        (ChannelKind.wechat, #"{"not":"xml"}"#, "invalid XML: expected <xml>"),
        (ChannelKind.wechat, "<xml><A><B><C><D><E><F><G><H><I>deep</I></H></G></F></E></D></C></B></A></xml>", "refused XML: elements nested deeper than 8"),
    ])
    func unreadableEnvelopeIsRefusedWithWhy(_ kind: ChannelKind, _ text: String, _ why: String) throws {
        let adapter = TestAccounts.adapter(kind)
        let body = Data(text.utf8)
        let request = TestAccounts.signedRequest(kind, body: body)
        try adapter.verify(request)
        #expect(throws: WebhookError.malformed(why)) { try adapter.parse(request) }
    }

    /// Inside a readable envelope, an event that cannot be read is kept with why, never thrown.
    @Test(arguments: [
        (ChannelKind.line, #"{"events":[{"type":"message","timestamp":"yesterday"}]}"#, "wrong type at events[0].timestamp"),
        (ChannelKind.line, #"{"events":[{"type":"message","timestamp":1e300}]}"#, "events[0]"),
        (ChannelKind.whatsapp, #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"wamid.X","timestamp":"1","type":"text"}]}}]}]}"#, "timestamp 1 is not a plausible time"),
        (ChannelKind.whatsapp, #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.X","timestamp":"1700000000","type":"text"}]}}]}]}"#, "message without from or from_user_id"),
        (ChannelKind.messenger, #"{"object":"page","entry":[{"id":"1","messaging":[{"sender":{},"recipient":{"id":"2"},"timestamp":1700000000000}]}]}"#, "sender has neither id nor user_ref"),
        (ChannelKind.sms, "MessageSid=SM1&Body=hi", "missing field From"),
        (ChannelKind.wechat, "<xml><MsgType><![CDATA[text]]></MsgType></xml>", "missing field FromUserName"),
    ])
    func unreadableEventIsKeptWithWhy(_ kind: ChannelKind, _ text: String, _ why: String) throws {
        let adapter = TestAccounts.adapter(kind)
        let request = TestAccounts.signedRequest(kind, body: Data(text.utf8))
        try adapter.verify(request)
        let parsed = try adapter.parse(request)
        #expect(parsed.events.isEmpty)
        #expect(parsed.unreadable.count == 1)
        #expect(parsed.unreadable.first?.reason.contains(why) == true, "\(parsed.unreadable.map(\.reason))")
    }

    /// WeChat's plaintext mode signs only token, timestamp and nonce: a stale timestamp is refused by
    /// `verify`, and a seen nonce with another body by the nonce ledger the server records it in.
    @Test func wechatReplayIsRefused() async throws {
        let adapter = TestAccounts.wechat()
        let ledger: any NonceLedger = InProcessNonceLedger()
        let body = Data("<xml><FromUserName>o1</FromUserName><CreateTime>1700000000</CreateTime><MsgType>text</MsgType><MsgId>1</MsgId></xml>".utf8)
        var request = TestAccounts.signedRequest(.wechat, body: body)
        try adapter.verify(request)
        let use = try #require(adapter.signatureUse(request))
        #expect(try await ledger.record(use, at: request.receivedAt))
        // The platform's own redelivery of the same body passes (the inbox dedupes it).
        #expect(try await ledger.record(try #require(adapter.signatureUse(request)), at: request.receivedAt))
        // The same signature over another body verifies, but its nonce is a replay.
        var forged = request
        forged.body = Data("<xml><FromUserName>o2</FromUserName><CreateTime>1700000000</CreateTime><MsgType>text</MsgType><MsgId>2</MsgId></xml>".utf8)
        try adapter.verify(forged)
        #expect(try await !ledger.record(try #require(adapter.signatureUse(forged)), at: forged.receivedAt))
        // The nonce is kept while the timestamp is fresh, and a second more: until it is 301 s old,
        // also when the call came before its timestamp (fresh until then by the clocks' difference).
        #expect(use.expires == Date(timeIntervalSince1970: 1_700_000_000 + 301))
        var early = request
        early.receivedAt = Date(timeIntervalSince1970: 1_700_000_000 - 200)
        #expect(adapter.signatureUse(early)?.expires == Date(timeIntervalSince1970: 1_700_000_000 + 301))
        var late = request
        late.receivedAt = Date(timeIntervalSince1970: 1_700_000_000 + 200)
        #expect(adapter.signatureUse(late)?.expires == Date(timeIntervalSince1970: 1_700_000_000 + 501))
        // Six minutes later the signature is stale, whatever the body.
        request.receivedAt = Date(timeIntervalSince1970: 1_700_000_000 + 360)
        #expect(throws: WebhookError.unauthorized("timestamp is more than 300 seconds from now; a replayed or delayed request")) {
            try TestAccounts.wechat().verify(request)
        }
    }

    /// A signature that covers the body has no nonce to record.
    @Test func onlyWeChatRecordsNonces() {
        #expect(TestAccounts.line().signatureUse(TestAccounts.signedRequest(.line, body: Data("{}".utf8))) == nil)
    }

    @Test func whatsappHandshake() throws {
        let adapter = TestAccounts.whatsapp()
        let ok = WebhookRequest(method: "GET", query: ["hub.mode": "subscribe", "hub.verify_token": "wa-verify-token", "hub.challenge": "1158201444"])
        #expect(try adapter.handshake(ok) == WebhookResponse(status: 200, body: "1158201444"))
        let wrong = WebhookRequest(method: "GET", query: ["hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"])
        #expect(throws: WebhookError.forbidden("hub.verify_token does not match")) { try adapter.handshake(wrong) }
        #expect(try TestAccounts.line().handshake(ok) == nil)
    }
}

/// The reference vectors of docs/platforms.md §9, computed by the platforms' own SDKs.
@Suite struct SignatureVectorTests {
    @Test func lineVector() {
        let body = Data(#"{"destination":"U0","events":[]}"#.utf8)
        #expect(Signatures.hmacSHA256Base64(secret: "testsecret", body: body) == "gRM7CuYTzNkYFQE8Cr/LnqWq8Q1y6k8cFzWU8qk5DFA=")
        #expect(HMACSHA256Key(secret: "testsecret").isValid(base64Signature: "gRM7CuYTzNkYFQE8Cr/LnqWq8Q1y6k8cFzWU8qk5DFA=", body: body))
    }

    /// A header value's surrounding spaces and tabs are not part of the signature; nothing else is taken off.
    @Test func signatureHeaderPadding() {
        let body = Data(#"{"destination":"U0","events":[]}"#.utf8)
        let mac = "gRM7CuYTzNkYFQE8Cr/LnqWq8Q1y6k8cFzWU8qk5DFA="
        #expect(HMACSHA256Key(secret: "testsecret").isValid(base64Signature: " \t\(mac) \t", body: body))
        #expect(!HMACSHA256Key(secret: "testsecret").isValid(base64Signature: " \t ", body: body))
        #expect(!HMACSHA256Key(secret: "testsecret").isValid(base64Signature: "\(mac)x", body: body))
        #expect(Signatures.isValidHMACSHA1(base64Signature: " \(Signatures.hmacSHA1Base64(secret: "k", message: body))\t", secret: "k", message: body))
    }

    @Test func metaVector() {
        let body = Data(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8)
        let hex = "09eceea024af6e6343b760cc9bd3ae7c056938dd636e24e92109eb8219500384"
        #expect(Signatures.hmacSHA256Hex(secret: "appsecret", body: body) == hex)
        #expect(HMACSHA256Key(secret: "appsecret").isValid(hexSignature: hex.uppercased(), body: body))
        #expect(!HMACSHA256Key(secret: "appsecret").isValid(hexSignature: String(hex.dropLast()), body: body))
    }

    @Test func twilioVector() throws {
        let params = [("From", "+15550001111"), ("To", "+15552223333"), ("Body", "Hi"), ("MessageSid", "SM123")]
        let request = WebhookRequest(
            method: "POST", url: "https://example.com/sms/inbound", headers: ["X-Twilio-Signature": "fF9jvC1hMMbkhp9DrtsU0wLpJ/A="],
            body: Data(FormEncoding.encode(params).utf8))
        try TestAccounts.sms(token: "12345").verify(request)
        var moved = request
        moved.url = "https://example.com/sms/other"
        #expect(throws: WebhookError.self) { try TestAccounts.sms(token: "12345").verify(moved) }
    }

    @Test func wechatVectors() throws {
        let adapter = TestAccounts.wechat()
        let query = ["signature": "438e320ae0bf0dbbad6e9d3ff6867680ed42140b", "timestamp": "1700000000", "nonce": "nonce123", "echostr": "hello"]
        #expect(try adapter.handshake(WebhookRequest(method: "GET", query: query)) == WebhookResponse(status: 200, body: "hello"))
        var wrong = query
        wrong["nonce"] = "other"
        #expect(throws: WebhookError.self) { try adapter.handshake(WebhookRequest(method: "GET", query: wrong)) }

        // The safe-mode vector of docs/platforms.md §9: encrypt, sign, and read it back through the adapter.
        let encrypt = "Q3stYC6hdFzMh9T8HCvyDMnsu8c340VXOKAu7L4L/b1P2o/5A49YbJ2j9ii79bXaOrdISKwixZyWnwUN43wSo5tkRn7w+juueyWa26YiV7asB+0fMLsnEb+alk7/LEr4"
        let body = Data("<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>".utf8)
        var safe = query
        safe["encrypt_type"] = "aes"
        safe["msg_signature"] = "ddf11f4d2b4bc561bb1a7d2658c6068a70df3bfa"
        let request = WebhookRequest(method: "POST", query: safe, body: body, receivedAt: Date(timeIntervalSince1970: 1_700_000_000))
        try adapter.verify(request)
        // The vector's message has no sender: after decryption it is kept unread, at the first missing field.
        #expect(try adapter.parse(request).unreadable.map(\.reason) == ["missing field FromUserName"])
    }

    @Test func constantTimeEquals() {
        #expect(Signatures.constantTimeEquals("token", "token"))
        #expect(!Signatures.constantTimeEquals("token", "tokem"))
        #expect(!Signatures.constantTimeEquals("token", "token1"))
        #expect(!Signatures.constantTimeEquals("", "x"))
    }
}
