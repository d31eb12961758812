#if canImport(Glibc)
    import Glibc
#endif

extension ConnectionLimits {
    /// Descriptors kept for everything but connections (databases, logs, the listening socket).
    static let reservedDescriptors = 128

    /// Every connection is a descriptor: raises the process's soft limit to its hard one, and returns
    /// these limits with the connection limits below what is left, so accepting never fails for want of
    /// a descriptor (the server would stop answering everyone), with the soft limit now in force.
    public func fittedToDescriptorLimit() -> (limits: ConnectionLimits, descriptors: Int) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (self, 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let descriptors = Int(min(limit.rlim_cur, rlim_t(Int32.max)))
        var fitted = self
        let available = max(1, descriptors - Self.reservedDescriptors)
        fitted.maximumConnections = min(maximumConnections, available)
        fitted.maximumConnectionsPerClient = min(maximumConnectionsPerClient, fitted.maximumConnections)
        return (fitted, descriptors)
    }
}
