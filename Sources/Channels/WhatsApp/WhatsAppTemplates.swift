import ChannelKit
import Foundation

/// Lists the Business Account's approved message templates:
/// `GET /{version}/{WABA-ID}/message_templates?status=APPROVED&fields=...`, following `paging.next`.
extension WhatsAppAdapter: TemplateCatalog {
    /// Templates asked for per page, and pages followed at most (Meta allows 250 templates per
    /// account by default; a few thousand at the most).
    static let templatePageSize = 100
    static let maxTemplatePages = 20

    public var templateCatalogProblem: String? {
        guard configuration.businessAccountId?.isEmpty == false else {
            return "set businessAccountId (the WhatsApp Business Account id) on channel whatsapp/\(configuration.id) in the configuration to list its message templates"
        }
        return nil
    }

    public func approvedTemplates(transport: any HTTPTransport) async throws -> [MessageTemplate] {
        guard let waba = configuration.businessAccountId, !waba.isEmpty else {
            throw SendError.permanent("not_configured", templateCatalogProblem ?? "no business account id")
        }
        var url: String? = "\(configuration.graphURL)/\(waba.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? waba)/message_templates?status=APPROVED"
            + "&fields=name,language,status,category,parameter_format,components&limit=\(Self.templatePageSize)"
        var templates: [MessageTemplate] = []
        var pages = 0
        while let next = url, pages < Self.maxTemplatePages {
            pages += 1
            let response = try await transport.perform(PlatformAPI.get(next, bearer: configuration.accessToken), maxResponseBytes: 4 << 20)
            guard (200..<300).contains(response.status) else { throw redacted(error(for: response)) }
            guard let page = PlatformAPI.decodeAnswer(WhatsAppTemplatePage.self, from: response.body) else {
                throw SendError.retryable("bad_answer", "the template list is not the JSON the Graph API sends")
            }
            templates += page.data.compactMap(\.sendable)
            url = page.paging?.next.flatMap(followable)
        }
        return templates
    }

    /// Only a next page on the configured Graph host gets the access token.
    private func followable(_ next: String) -> String? {
        next.hasPrefix(configuration.apiBaseURL + "/") ? next : nil
    }

    /// Meta sometimes quotes the token it refused ("Malformed access token ..."): never pass it on.
    private func redacted(_ error: SendError) -> SendError {
        let token = configuration.accessToken
        guard !token.isEmpty, error.reason.contains(token) else { return error }
        return SendError(error.disposition, code: error.code, reason: error.reason.replacingOccurrences(of: token, with: "[access token]"))
    }
}

/// One page of `GET /{WABA-ID}/message_templates`.
struct WhatsAppTemplatePage: Decodable {
    struct Paging: Decodable { var next: String? }
    var data: [WhatsAppTemplate]
    var paging: Paging?
}

struct WhatsAppTemplate: Decodable {
    struct Component: Decodable {
        var type: String
        var format: String?
        var text: String?
    }
    var name: String
    var language: String
    var status: String?
    var category: String?
    var parameter_format: String?
    var components: [Component]?

    /// The template as an agent can send it through the bridge, or nil when it needs more than
    /// positional body parameters (named parameters, a media header or a header variable): the
    /// bridge's template send fills the body only, so offering those would fail at Meta.
    var sendable: MessageTemplate? {
        guard status.map({ $0.uppercased() == "APPROVED" }) ?? true, parameter_format?.uppercased() != "NAMED" else { return nil }
        let components = self.components ?? []
        if let header = components.first(where: { $0.type.uppercased() == "HEADER" }) {
            let format = header.format?.uppercased() ?? "TEXT"
            guard format == "TEXT", MessageTemplate.placeholderCount(in: header.text ?? "") == 0 else { return nil }
        }
        let body = components.first { $0.type.uppercased() == "BODY" }?.text ?? ""
        return MessageTemplate(name: name, language: language, category: category ?? "", bodyText: body)
    }
}
