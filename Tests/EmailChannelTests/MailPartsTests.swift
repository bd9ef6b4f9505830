import Foundation
import Testing

@testable import EmailChannel

/// The pieces of mail reading on their own: encoded words, transfer encodings, charsets, HTML,
/// quote trimming, addresses and dates.
@Suite struct MailPartsTests {
    @Test(arguments: [
        ("=?UTF-8?B?44GT44KT44Gr44Gh44Gv?=", "こんにちは"),
        ("=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "こんにちは"),
        ("=?iso-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème"),
        ("Re: =?UTF-8?Q?r=C3=A9sum=C3=A9?= please", "Re: résumé please"),
        // Whitespace between adjacent encoded words is not text; a UTF-8 sequence split across words joins.
        ("=?UTF-8?B?44GT44KT?= =?UTF-8?B?44Gr44Gh44Gv?=", "こんにちは"),
        ("=?UTF-8?Q?=E3=81?= =?UTF-8?Q?=93?=", "こ"),
        ("not =?encoded", "not =?encoded"),
        ("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="),
    ])
    func encodedWords(_ raw: String, _ decoded: String) {
        #expect(EncodedWords.decode(raw) == decoded)
    }

    @Test func quotedPrintable() {
        let decoded = TransferEncoding.quotedPrintable(Data("Caf=C3=A9 =\r\nlong line=3D ok=\nend =ZZ".utf8))
        #expect(String(decoding: decoded, as: UTF8.self) == "Café long line= okend =ZZ")
    }

    @Test func base64Lenient() {
        #expect(String(decoding: TransferEncoding.base64(Data("aGVs\r\nbG8g\nd29y bGQ".utf8)), as: UTF8.self) == "hello world")
    }

    @Test func charsets() {
        #expect(Charsets.decode(Data([0x82, 0xb1, 0x82, 0xf1]), charset: "Shift_JIS") == "こん")
        #expect(Charsets.decode(Data([0x1b, 0x24, 0x42, 0x24, 0x33, 0x1b, 0x28, 0x42]), charset: "iso-2022-jp") == "こ")
        #expect(Charsets.decode(Data([0x63, 0xe9]), charset: "ISO-8859-1") == "cé")
        // Unknown charsets read as UTF-8 instead of dropping the mail.
        #expect(Charsets.decode(Data("ok".utf8), charset: "x-unknown") == "ok")
    }

    @Test func htmlToText() {
        let html = """
            <html><head><title>t</title><style>p{color:red}</style></head><body>
            <p>Hello &amp; welcome,<br>second&nbsp;line</p><script>alert(1)</script>
            <div>Caf&#233; &#x263A;</div><blockquote><p>quoted</p></blockquote><!-- <p>hidden</p> --></body></html>
            """
        #expect(HTMLText.text(html) == "Hello & welcome,\nsecond line\n\nCafé ☺\n> quoted")
    }

    @Test(arguments: [
        ("Thanks!\n\nOn Tue, 14 Nov 2023 at 10:00, Support <help@example.com> wrote:\n> Hello\n> there", "Thanks!"),
        ("Thanks!\n\nOn Tue, 14 Nov 2023 at 10:00, Support <help@example.com>\nwrote:\n> Hello", "Thanks!"),
        ("ありがとうございます。\n\n2023年11月14日(火) 10:00 サポート <help@example.com>:\n> こんにちは", "ありがとうございます。\n\n2023年11月14日(火) 10:00 サポート <help@example.com>:"),
        ("了解です。\n\n山田さんは書きました:\n> こんにちは", "了解です。"),
        ("了解です。\n\n----- Original Message -----\nFrom: x", "了解です。"),
        ("See inline\n> question\nanswer\n\n-- \nAna\n+1 555", "See inline\n> question\nanswer"),
        ("> only a quote", "> only a quote"),
    ])
    func trimming(_ text: String, _ trimmed: String) {
        #expect(QuoteTrimmer.trim(text) == trimmed)
    }

    @Test func addresses() {
        #expect(MailAddress.parse("\"Doe, Ana\" <Ana.Doe@Example.COM>") == MailAddress(name: "Doe, Ana", address: "Ana.Doe@Example.COM"))
        #expect(MailAddress.parse("=?UTF-8?B?5bGx55Sw?= <yamada@example.jp>") == MailAddress(name: "山田", address: "yamada@example.jp"))
        #expect(MailAddress.parse("ana@example.com (Ana)") == MailAddress(name: "Ana", address: "ana@example.com"))
        #expect(MailAddress.parse("undisclosed-recipients:;") == nil)
        #expect(MailAddress(name: nil, address: "Élodie.X@Example.com").key == "Élodie.x@example.com")
    }

    @Test func dates() {
        #expect(MailDate.parse("Tue, 14 Nov 2023 22:13:20 +0000") == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(MailDate.parse("14 Nov 2023 23:13:20 +0100 (CET)") == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(MailDate.parse("Wed, 15 Nov 2023 07:13:20 JST") == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(MailDate.parse("yesterday") == nil)
    }

    @Test func ticketToken() {
        #expect(ParsedMail.ticketToken(in: "Re: Order late [#123]") == 123)
        #expect(ParsedMail.ticketToken(in: "[#] [#x] [#42]") == 42)
        #expect(ParsedMail.ticketToken(in: "[#99999999999999999999]") == nil)
        #expect(ParsedMail.ticketToken(in: "no token") == nil)
        // Another helpdesk's token in the customer's subject comes first; ours is last.
        #expect(ParsedMail.ticketToken(in: "Re: Fwd: Order [#5512] [#9]") == 9)
    }

    @Test func rfc2231FileName() {
        let parameters = HeaderParameters("attachment; filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf")
        #expect(parameters.value == "attachment")
        #expect(parameters["filename"] == "請求書.pdf")
        let continued = HeaderParameters("attachment; filename*0*=UTF-8''%E2%82%AC; filename*1=.pdf")
        #expect(continued["filename"] == "€.pdf")
    }
}
