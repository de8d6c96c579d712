import CSystem

/// Waits for SIGTERM or SIGINT, for graceful shutdown.
public enum SignalWaiter {
    /// Blocks the two signals in this thread (call it before starting threads, so every thread
    /// inherits the mask) and returns a waiter that reads them.
    public static func prepare() -> Int32 { csystem_signalfd_term() }

    /// Blocks until SIGTERM or SIGINT arrives and returns its number.
    @discardableResult
    public static func waitForTermination(_ fd: Int32? = nil) -> Int32 {
        let fd = fd ?? csystem_signalfd_term()
        while true {
            let signal = csystem_signalfd_read(fd)
            if signal > 0 { return signal }
        }
    }
}
