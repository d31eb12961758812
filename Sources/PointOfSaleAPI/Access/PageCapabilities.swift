/// What the pages served by the till may call, as random capabilities made for each daemon run and
/// written into the page: the kiosk may follow the scans and send the feedback tap, the manager page
/// may only follow the scans. Neither may read a member, sell, redeem or refund.
public struct PageCapabilities: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let kiosk: String
    public let manager: String

    public init() {
        kiosk = APITokenFile.newToken()
        manager = APITokenFile.newToken()
    }

    /// Never the capabilities themselves: a service's description reaches the debug log.
    public var description: String { "PageCapabilities(kiosk: …, manager: …)" }
    public var debugDescription: String { description }

    /// The header a page's `fetch` sends its capability in (an `EventSource` sends it as the query
    /// parameter `capability`: it cannot set headers).
    static let header = "X-Loyalty-Capability"
    static let queryParameter = "capability"
}
