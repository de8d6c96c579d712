/// The status of a finished call: gRPC's 17 codes, with the same numbers and meanings.
public enum RPCStatusCode: Int32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ok = 0
    /// The caller cancelled the call.
    case cancelled = 1
    case unknown = 2
    /// The request is invalid regardless of the system's state; violations name the fields.
    case invalidArgument = 3
    /// The deadline passed before the call finished (it may still have taken effect).
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    /// The caller is known but may not do this.
    case permissionDenied = 7
    /// A limit was hit: frame size, quota, rate.
    case resourceExhausted = 8
    /// The system is not in a state that allows this; fix the state first (e.g. an invalid stage move).
    case failedPrecondition = 9
    /// A concurrency conflict; retry at a higher level.
    case aborted = 10
    case outOfRange = 11
    /// The method is not implemented by this server.
    case unimplemented = 12
    case `internal` = 13
    /// Transient: the call can be retried (the server is draining, restarting or unreachable).
    case unavailable = 14
    case dataLoss = 15
    /// The caller did not prove who it is.
    case unauthenticated = 16

    /// Maps an unknown number to ``unknown``.
    public init(code: Int32) {
        self = RPCStatusCode(rawValue: code) ?? .unknown
    }

    /// The canonical upper-case name, as gRPC spells it (`INVALID_ARGUMENT`).
    public var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }

    public var description: String { name }
}
