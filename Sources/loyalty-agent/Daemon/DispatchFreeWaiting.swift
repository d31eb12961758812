import Foundation
import Glibc
import NIOCore
import NIOPosix
import Synchronization

/// Waiting without Dispatch. On Linux the first `Task.sleep` or Dispatch signal source starts
/// libdispatch's worker pool, whose monitor then wakes the process every second for good; an idle
/// till should sleep until a request, a scan or its own timer.
enum DispatchFreeWaiting {
    /// Sleeps on an NIO event-loop timer (one timerfd wake); throws `CancellationError` when the
    /// task is cancelled first.
    static func sleep(milliseconds: Int64) async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let scheduled = Mutex<Scheduled<Void>?>(nil)
        try await withTaskCancellationHandler {
            let task = loop.scheduleTask(in: .milliseconds(max(0, milliseconds))) {}
            scheduled.withLock { $0 = task }
            if Task.isCancelled { task.cancel() }
            do {
                try await task.futureResult.get()
            } catch {
                throw CancellationError()
            }
        } onCancel: {
            scheduled.withLock { $0?.cancel() }
        }
    }
}

/// The write end of the signal pipe, for the async-signal-safe handler below.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// The daemon's signals (SIGTERM, SIGINT, SIGHUP) without a Dispatch signal source: a handler
/// writes the signal's number into a pipe (async-signal-safe, whichever thread the kernel picks) and
/// a thread blocked reading the pipe hands each to `handle`. It lives as long as the process.
final class SignalWaiter: Sendable {
    static let handledSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP]
    private let handle: @Sendable (Int32) -> Void

    init(handle: @escaping @Sendable (Int32) -> Void) {
        self.handle = handle
    }

    func start() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        signalPipeWriteEnd = ends[1]
        let readEnd = ends[0]
        for signal in Self.handledSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipeWriteEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
        let handle = self.handle
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 { handle(Int32(byte)) } else if count < 0 && errno != EINTR { return }
            }
        }
        thread.name = "signals"
        thread.start()
    }
}
