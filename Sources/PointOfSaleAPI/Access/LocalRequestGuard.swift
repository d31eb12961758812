import Foundation
import HTTPTypes
public import Hummingbird

/// Every request to the till's API passes here first. Loopback is not authentication: any web page
/// open in a browser on the box can send requests to 127.0.0.1, and a DNS-rebinding page can even
/// read the answers. So the guard refuses
/// - a `Host` that is not a loopback name (DNS rebinding),
/// - a cross-origin request (`Origin` other than the page's own, `Sec-Fetch-Site` other than
///   `same-origin` or `none`), a browser's "simple" request without a preflight among them,
/// - a write whose body is not `application/json` (a form or `text/plain` post needs no preflight),
/// - a request without the credential its route needs: the POS client's token for members, sales,
///   redemptions and refunds; the kiosk's or manager's page capability for the scan stream, the
///   kiosk's for the feedback tap.
public struct LocalRequestGuard: RouterMiddleware {
    public typealias Context = BasicRequestContext

    let token: any APITokenSource
    let pages: PageCapabilities

    /// What a route needs.
    enum Access: Equatable {
        /// Pages, health, metrics: nothing (they hold no member's data a page from elsewhere could read).
        case open
        /// The scan stream: the POS token or a page capability.
        case scans
        /// The kiosk's tap: the POS token or the kiosk's capability.
        case feedback
        /// Members, sales, redemptions, refunds and anything else: the POS token.
        case pointOfSale
    }

    static let loopbackHosts: Set<String> = ["127.0.0.1", "localhost", "[::1]", "::1"]

    static func access(method: HTTPRequest.Method, path: String) -> Access {
        switch (method, path) {
        case (.get, "/"), (.get, "/kiosk"), (.get, "/manager"), (.get, "/v1/health"), (.get, "/metrics"),
            (.head, _):
            return .open
        case (.get, "/v1/scans"): return .scans
        case (.post, "/v1/feedback"): return .feedback
        default: return .pointOfSale
        }
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let refusal = refusal(request) { return refusal }
        var response = try await next(request, context)
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        // No page of the till may be framed by another page (a tap on the kiosk is the customer's).
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[.contentSecurityPolicy] = "frame-ancestors 'none'"
        return response
    }

    func refusal(_ request: Request) -> Response? {
        guard let host = request.head.authority, Self.loopbackHosts.contains(Self.hostName(host)) else {
            return JSONResponses.error(
                .misdirectedRequest, "bad_host",
                "this till's API answers only to a loopback Host (127.0.0.1, localhost, [::1])")
        }
        if let origin = request.headers[.origin], origin != "http://\(host)" {
            return JSONResponses.error(.forbidden, "cross_origin", "requests from another web page are refused")
        }
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            return JSONResponses.error(.forbidden, "cross_origin", "requests from another web page are refused")
        }
        if request.method != .get, request.method != .head {
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
            guard type?.lowercased() == "application/json" else {
                return JSONResponses.error(
                    .unsupportedMediaType, "bad_content_type",
                    "a request body must be sent as Content-Type: application/json")
            }
        }
        let access = Self.access(method: request.method, path: request.uri.path)
        if access == .open { return nil }
        if let expected = token.currentToken(), let authorization = request.headers[.authorization],
            authorization.hasPrefix("Bearer "), APITokenFile.matches(authorization.dropFirst(7), expected)
        {
            return nil
        }
        let capability =
            request.headers[HTTPField.Name(PageCapabilities.header)!]
            ?? request.uri.queryParameters.get(PageCapabilities.queryParameter)
        if let capability {
            let allowed = access == .scans ? [pages.kiosk, pages.manager] : access == .feedback ? [pages.kiosk] : []
            if allowed.contains(where: { APITokenFile.matches(Substring(capability), $0) }) { return nil }
        }
        var response = JSONResponses.error(
            .unauthorized, "unauthorized",
            "this request needs the till's API token (Authorization: Bearer TOKEN, from the file api.token_file names)")
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }

    /// `HOST` of `HOST:PORT` (`[::1]` kept in brackets).
    static func hostName(_ authority: String) -> String {
        let lowered = authority.lowercased()
        if lowered.hasPrefix("[") { return lowered.split(separator: "]").first.map { $0 + "]" } ?? lowered }
        return lowered.split(separator: ":", maxSplits: 1).first.map(String.init) ?? lowered
    }
}
