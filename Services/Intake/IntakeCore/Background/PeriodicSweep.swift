import Foundation
import Observability
import RPC
import RPCTransport
import ServiceKit

/// Runs a clean-up on its own thread every `interval` seconds: round after round (at most 1,000)
/// while `round` says a backlog remains, and again at the next interval after a failure.
/// Garbage collection of uploads and the mail retention are both this.
final class PeriodicSweep: BackgroundService, @unchecked Sendable {
    let name: String
    let failureMessage: String
    let interval: Double
    let logger: Logger
    /// One round; returns whether there is more to do right away.
    let round: @Sendable () throws -> Bool
    private let loop: BackgroundLoop

    /// - Parameters:
    ///   - name: The thread's name.
    ///   - failureMessage: The warning logged when a round throws.
    init(name: String, failureMessage: String, interval: Double, logger: Logger, round: @escaping @Sendable () throws -> Bool) {
        self.name = name
        self.failureMessage = failureMessage
        self.interval = interval
        self.logger = logger
        self.round = round
        loop = BackgroundLoop(name: name)
    }

    func start() {
        loop.start { [self] loop in
            while loop.sleep(interval) {
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
