import RPC

/// The receiving side's flow-control bookkeeping of one streaming call, the same for the
/// client's responses and the server's requests (docs/PROTOCOL.md): each side may send
/// ``RPCProtocol/initialStreamWindow`` messages ahead, and the reader gives back what it took with
/// a WINDOW frame every half window, so a sender never stalls while the reader keeps up.
///
/// Guarded by the stream's lock; the WINDOW frame is sent after it is released.
struct ReceiveWindow {
    private var consumedSinceGrant = 0

    /// Counts one message the reader took.
    /// - Returns: how many messages to grant the sender now (0: no WINDOW frame yet).
    mutating func consume() -> Int {
        consumedSinceGrant += 1
        guard consumedSinceGrant >= RPCProtocol.initialStreamWindow / 2 else { return 0 }
        defer { consumedSinceGrant = 0 }
        return consumedSinceGrant
    }
}
