/// What a call that one response completes sends after its REQUEST frame.
enum OutgoingRequest: Sendable {
    /// A unary call's encoded request, in the REQUEST frame itself.
    case message([UInt8])
    /// A client-streaming call's encoded requests, all at hand (at most the flow-control window):
    /// they follow the REQUEST, with the end of the stream, in the same write.
    case stream([[UInt8]])
}
