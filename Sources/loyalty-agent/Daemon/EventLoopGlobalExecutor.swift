import CConcurrencyHook
import NIOCore
import NIOPosix

/// Runs every Swift task of the daemon on NIO's event-loop threads instead of Dispatch's worker pool,
/// whose monitor on Linux wakes the process once a second for as long as it lives.
enum EventLoopGlobalExecutor {
    private typealias EnqueueGlobalHook =
        @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Installs the hook before any task runs (call first thing in `main`). NIO's own installer finds
    /// the hook with dlsym, which fails when the Swift runtime is linked statically (the release
    /// build); then the hook's address comes from the linker. Returns whether tasks now run on NIO.
    static func install() -> Bool {
        if NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() { return true }
        guard let slot = loyalty_swift_task_enqueue_global_hook(), slot.pointee == nil else { return false }
        return withUnsafeTemporaryAllocation(of: EnqueueGlobalHook.self, capacity: 1) { hook in
            hook.baseAddress!.initialize(to: { job, _ in
                MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(job)
            })
            // A thin function is one pointer: store it as the runtime's hook.
            return hook.baseAddress!.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 1) { pointer in
                slot.pointee = pointer.pointee
                return true
            }
        }
    }
}
