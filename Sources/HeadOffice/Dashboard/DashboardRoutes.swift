import Crypto
public import Foundation
import HTMLRendering
import Hummingbird
import NIOCore

/// Who may open the dashboard. It shows every store and (masked) members' cards, so on anything but
/// loopback it needs a password.
public enum DashboardAccess: Sendable {
    /// No password: served because the server listens on loopback only.
    case loopbackOnly
    /// HTTP Basic authentication with this password (any user name).
    case password(String)
    /// Not served (listening beyond loopback without a password).
    case disabled
}

extension HeadOfficeAPI {
    func addDashboard(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/dashboard"]) }
        router.get("/dashboard") { request, _ in
            switch dashboard {
            case .loopbackOnly where !Self.loopbackHost(request.head.authority):
                // Served without a password because only this box can reach it: a page from elsewhere that
                // rebinds its name to 127.0.0.1 must not read it.
                return APIResponse.error(
                    .misdirectedRequest, "bad_host", "the dashboard answers only to a loopback Host (127.0.0.1, localhost, [::1])")
            case .disabled:
                return APIResponse.error(
                    .notFound, "dashboard_disabled",
                    "the dashboard needs a password when head office listens beyond loopback: start with --dashboard-password-file"
                )
            case .password(let password):
                if let seconds = passwordThrottle.retryAfterSeconds() {
                    var response = APIResponse.error(
                        .tooManyRequests, "too_many_attempts",
                        "too many wrong dashboard passwords; try again in \(seconds) s")
                    response.headers[.retryAfter] = String(seconds)
                    return response
                }
                guard Self.authorised(request, password: password) else {
                    passwordThrottle.recordFailure()
                    return Response(
                        status: .unauthorized,
                        headers: [.wwwAuthenticate: "Basic realm=\"loyalty-hq dashboard\", charset=\"UTF-8\""])
                }
            default:
                break
            }
            do {
                let now = clock()
                let program = HeadOfficeProgram.inForce(try await store.programs(), now: now)
                // Days and times as a person in the chain counts them (the tills' zone).
                let calendar = try ChainCalendar(identifier: try await store.chainTimeZone(now: now))
                let view = DashboardPage.View(
                    stores: try await store.stores(), overdrafts: try await store.overdrafts(),
                    dailyTotals: try await store.dailyTotals(
                        sinceMilliseconds: calendar.startMilliseconds(ofDay: calendar.today(now) - DashboardPage.daysShown + 1),
                        calendar: calendar),
                    tierCounts: try await store.tierCounts(now: now), tierOrder: program.tiers.map(\.name),
                    currency: program.currency, now: now, calendar: calendar)
                return Self.html(DashboardPage.render(view))
            } catch {
                return APIResponse.error(
                    .serviceUnavailable, "storage_unavailable", "head office's database could not be read: \(error)")
            }
        }
    }

    /// Whether a `Host` (`HOST:PORT`) names this box by a loopback name.
    static func loopbackHost(_ authority: String?) -> Bool {
        guard let lowered = authority?.lowercased() else { return false }
        let host =
            lowered.hasPrefix("[")
            ? (lowered.split(separator: "]").first.map { $0 + "]" } ?? lowered)
            : (lowered.split(separator: ":", maxSplits: 1).first.map(String.init) ?? lowered)
        return ["127.0.0.1", "localhost", "[::1]"].contains(host)
    }

    /// `Authorization: Basic …` with the password (compared in constant time).
    static func authorised(_ request: Request, password: String) -> Bool {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return false }
        let given = SHA256.hash(data: Data(text[text.index(after: colon)...].utf8))
        let expected = SHA256.hash(data: Data(password.utf8))
        // Equal-length digests compared without an early exit.
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func html(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
