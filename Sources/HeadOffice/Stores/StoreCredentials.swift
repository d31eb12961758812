/// What a store's requests may be signed with, as head office holds it.
public struct StoreCredentials: Sendable, Equatable {
    /// The secrets valid now: the current one first, then the previous one during a rotation.
    public var secrets: [String]
    /// The store was revoked: every request is refused, whatever its signature.
    public var revoked: Bool

    public init(secrets: [String], revoked: Bool) {
        self.secrets = secrets
        self.revoked = revoked
    }

    /// The longest overlap of a rotation: a week is enough to reach every till of a store.
    public static let maximumOverlapSeconds: Int64 = 7 * 86_400
}
