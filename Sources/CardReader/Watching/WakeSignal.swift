import Glibc

/// Wakes a ``ScannerWatcher`` blocked in `poll` (a pipe it polls beside the devices), so a watcher
/// waits for events with no timeout and still stops at once when asked.
public final class WakeSignal: Sendable {
    /// The end the watcher polls, and the end ``signal()`` writes to.
    let descriptor: Int32
    private let writeDescriptor: Int32

    public init() throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw Udev.Failure(description: "pipe failed: \(String(cString: strerror(errno)))") }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        descriptor = ends[0]
        writeDescriptor = ends[1]
    }

    deinit {
        close(descriptor)
        close(writeDescriptor)
    }

    /// Makes the watcher's next (or current) poll return.
    public func signal() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    /// Clears the pending wake-ups (bounded: the pipe holds at most a few bytes in practice).
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        for _ in 0..<16 where read(descriptor, &buffer, buffer.count) > 0 {}
    }
}
