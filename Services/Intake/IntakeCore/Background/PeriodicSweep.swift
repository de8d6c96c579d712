import Foundation
import Observability
import RPC
import RPCTransport
import ServiceKit

/// Runs a clean-up on its own thread every `interval` seconds (and at once when it starts, if
/// `runsAtStart`): round after round (at most 1,000) while `round` says a backlog remains, and
/// again at the next interval after a failure. Garbage collection of uploads, the scan for
/// unrecorded content files and the mail retention are all this.
final class PeriodicSweep: BackgroundService, @unchecked Sendable {
    let name: String
    let failureMessage: String
    let interval: Double
    let runsAtStart: Bool
    let logger: Logger
    /// One round; returns whether there is more to do right away.
    let round: @Sendable () throws -> Bool
    private let loop: BackgroundLoop

    /// - Parameters:
    ///   - name: The thread's name.
    ///   - failureMessage: The warning logged when a round throws.
    ///   - runsAtStart: Run the first rounds as soon as the thread starts, not after `interval`.
    init(name: String, failureMessage: String, interval: Double, runsAtStart: Bool = false, logger: Logger,
         round: @escaping @Sendable () throws -> Bool) {
        self.name = name
        self.failureMessage = failureMessage
        self.interval = interval
        self.runsAtStart = runsAtStart
        self.logger = logger
        self.round = round
        loop = BackgroundLoop(name: name)
    }

    func start() {
        loop.start { [self] loop in
            var due = runsAtStart
            while due || loop.sleep(interval) {
                due = false
                do {
                    for _ in 0..<1_000 where !loop.isStopping {
                        if try !round() { break }
                    }
                } catch {
                    logger.warning(failureMessage, ["error": "\(error)"])
                }
            }
        }
    }

    func stop() { loop.stop() }
}
