import Foundation

/// Polls `condition` every 50 ms for up to `seconds` (real time) and returns whether it held:
/// for what travels between threads or processes (events through the outbox, timers, mail).
/// The last check runs after the deadline, so a slow machine fails only when it is really late.
@discardableResult
public func waitFor(_ seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let limit = Date().addingTimeInterval(seconds)
    while Date() < limit {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}
