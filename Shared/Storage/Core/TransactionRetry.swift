import Foundation

/// Re-runs a transaction attempt after a retryable ``StorageError`` (see
/// ``StorageError/isRetryable``), sleeping a short, exponentially growing, jittered delay between
/// attempts so that competing writers do not collide again in lockstep.
struct TransactionRetry {
    /// Total attempts, including the first one.
    let maxAttempts: Int

    /// Runs `attempt` until it succeeds, throws a non-retryable error, or attempts run out.
    /// - Parameter retrying: narrows which retryable errors are attempted again (the migrator
    ///   leaves lock waits to itself).
    func run<T>(retrying: (StorageError) -> Bool = { _ in true }, _ attempt: () throws -> T) throws -> T {
        var attemptNumber = 1
        while true {
            do {
                return try attempt()
            } catch let error as StorageError where error.isRetryable && retrying(error) && attemptNumber < maxAttempts {
                Thread.sleep(forTimeInterval: Self.delay(afterAttempt: attemptNumber, kind: error.kind))
                attemptNumber += 1
            }
        }
    }

    /// The pause after failed attempt `attempt` (1-based): lock conflicts clear in milliseconds,
    /// a broken connection usually needs the server to come back, so it waits longer.
    static func delay(afterAttempt attempt: Int, kind: StorageError.Kind) -> TimeInterval {
        let (base, cap): (TimeInterval, TimeInterval) = kind == .connection ? (0.05, 1.0) : (0.002, 0.1)
        let ceiling = min(cap, base * pow(2, Double(attempt - 1)))
        return Double.random(in: (ceiling / 2)...ceiling)
    }
}
