import Foundation
import Synchronization

/// Set by SIGINT/SIGTERM so long-running commands stop cleanly (and release their grabs).
let stopRequested = Atomic<Bool>(false)

func installStopSignalHandlers() {
    for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber) { _ in stopRequested.store(true, ordering: .relaxed) }
    }
}
