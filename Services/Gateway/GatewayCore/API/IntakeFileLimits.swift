import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Synchronization

extension InlineFileLimits {
    /// These limits lowered to intake's where intake's are smaller: a file goes inside a call
    /// only if intake takes it there, and no upload larger than intake's file limit is relayed.
    /// A limit intake leaves at 0 (an intake that does not say) keeps the gateway's.
    public func clamped(to intake: IntakeV1.FileLimits) -> InlineFileLimits {
        func lower(_ mine: Int, _ theirs: Int64) -> Int { theirs > 0 ? min(mine, Int(clamping: theirs)) : mine }
        return InlineFileLimits(fileBytes: lower(fileBytes, intake.inlineFileBytes), maxFiles: lower(maxFiles, Int64(intake.inlineMaxFiles)),
                                maxBytes: lower(maxBytes, intake.inlineMaxBytes), uploadBytes: lower(uploadBytes, intake.maxFileBytes))
    }
}

/// The file limits the gateway applies and serves (`GET /v1/file-limits`): its own
/// (`GATEWAY_HTTP_INLINE_*`, `GATEWAY_HTTP_MAX_UPLOAD_BYTES`) lowered to intake's
/// (`GetFileLimits`), so that a deployment lowering intake's limits needs no matching gateway
/// setting. Intake's answer is kept for ``lifetimeSeconds``; while intake cannot be asked, the
/// last answer (or, before the first, the gateway's own limits) is used and intake is asked again
/// after ``retrySeconds`` — intake itself still refuses what it does not take.
public final class IntakeFileLimits: Sendable {
    public let own: InlineFileLimits
    let lifetimeNanoseconds: UInt64
    let retryNanoseconds: UInt64
    private struct State {
        var limits: InlineFileLimits
        /// When intake is to be asked next (monotonic ns); 0: at the first request.
        var refreshAt: UInt64 = 0
        var refreshing = false
    }
    private let state: Mutex<State>

    /// - Parameters:
    ///   - own: The gateway's configured limits, the upper bound.
    ///   - lifetimeSeconds: How long intake's answer is reused (a change of intake's settings
    ///     shows after at most this long; intake reads them at start).
    ///   - retrySeconds: How long to wait before asking again after intake did not answer.
    public init(own: InlineFileLimits, lifetimeSeconds: Int = 60, retrySeconds: Int = 5) {
        self.own = own
        lifetimeNanoseconds = UInt64(lifetimeSeconds) * 1_000_000_000
        retryNanoseconds = UInt64(retrySeconds) * 1_000_000_000
        state = Mutex(State(limits: own))
    }

    /// The limits to apply now, asking intake through `fetch` when its answer is due. One caller
    /// asks at a time; the others meanwhile use the limits known so far.
    public func current(fetch: () throws -> IntakeV1.FileLimits) -> InlineFileLimits {
        let now = MonotonicClock.nanoseconds()
        let (limits, mustAsk) = state.withLock { state -> (InlineFileLimits, Bool) in
            guard now >= state.refreshAt, !state.refreshing else { return (state.limits, false) }
            state.refreshing = true
            return (state.limits, true)
        }
        guard mustAsk else { return limits }
        let answer = try? fetch()
        return state.withLock { state in
            state.refreshing = false
            if let answer {
                state.limits = own.clamped(to: answer)
                state.refreshAt = now + lifetimeNanoseconds
            } else {
                state.refreshAt = now + retryNanoseconds
            }
            return state.limits
        }
    }

    /// Asks intake's `GetFileLimits` as the gateway itself (a short deadline: a request waits on it).
    static func intakeFetch(_ gateway: Gateway) -> () throws -> IntakeV1.FileLimits {
        {
            let options = CallOptions(timeoutMilliseconds: 2_000, metadata: gateway.signer.metadata(for: PrincipalSigner.service("gateway")))
            let bytes = try gateway.forward(service: "intake", path: IntakeV1.Intake.getFileLimits.path,
                                            payload: IntakeV1.GetFileLimitsRequest().serializedBytes(), options: options)
            return try IntakeV1.FileLimits(serializedBytes: bytes)
        }
    }
}

extension Gateway {
    /// The file limits in force (the gateway's lowered to intake's; ``IntakeFileLimits``).
    public var fileLimits: InlineFileLimits {
        intakeFileLimits.current(fetch: IntakeFileLimits.intakeFetch(self))
    }
}
