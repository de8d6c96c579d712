import Foundation
import Messages
import RPCTransport
import TestSupport

/// The RPC frames of docs/PROTOCOL.md over a ``RawConnection``, for feeding a service bytes no
/// well-behaved client sends.
extension RawConnection {
    static func framed(_ body: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count).bigEndian
        return withUnsafeBytes(of: length) { Array($0) } + body
    }

    func sendFrame(_ frame: RpcV1.Frame) -> Bool { send(Self.framed(frame.serializedBytes())) }

    func readFrame() -> RpcV1.Frame? {
        guard let prefix = read(4) else { return nil }
        let length = Int(prefix.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length <= 4 << 20, let body = length == 0 ? [] : read(length) else { return nil }
        return try? RpcV1.Frame(serializedBytes: body)
    }

    /// Runs the HELLO / AUTH / AUTH_OK exchange of docs/PROTOCOL.md with `secret`.
    func authenticate(_ secret: DeploymentSecret) -> Bool {
        guard let hello = readFrame(), hello.kind == .hello else { return false }
        let clientNonce = DeploymentSecret.randomBytes(32)
        var auth = RpcV1.Frame()
        auth.kind = .auth
        auth.metadata = ["caller": "fuzz"]
        auth.payload = clientNonce + secret.mac(Array("ocorrencias-rpc-v1 client".utf8), hello.payload, clientNonce)
        guard sendFrame(auth), let ok = readFrame() else { return false }
        return ok.kind == .authOk
    }
}
