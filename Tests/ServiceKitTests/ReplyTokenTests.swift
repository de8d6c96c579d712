import RPCTransport
import ServiceKit
import Testing

@Suite("Reply tokens that thread e-mail replies back to tickets")
struct ReplyTokenTests {
    let tokens = ReplyToken(secret: DeploymentSecret(bytes: Array(repeating: 7, count: 32)))

    @Test("a token found in a reply address or a quoted Message-ID names its ticket")
    func roundTrip() {
        let token = tokens.token(ticketID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        #expect(tokens.verify(token) == "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        #expect(tokens.ticketID(in: "Suporte <suporte+\(token)@exemplo.com.br>") == "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        #expect(tokens.ticketID(in: "<a@b> <n.abc.\(token)@exemplo.com.br>") == "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    }

    @Test("a forged or altered token, or one from another deployment, names no ticket")
    func forged() {
        let token = tokens.token(ticketID: "T1")
        let other = ReplyToken(secret: DeploymentSecret(bytes: Array(repeating: 8, count: 32)))
        #expect(other.verify(token) == nil)
        #expect(tokens.verify("T2" + token.dropFirst(2)) == nil)
        #expect(tokens.ticketID(in: "Re: ocorrência 2026-000123") == nil)
    }
}
