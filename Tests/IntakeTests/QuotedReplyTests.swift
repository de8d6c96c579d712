import Testing
@testable import IntakeCore

/// What of a customer's reply e-mail becomes the ticket's message: the new text, without the
/// quoted thread each mail client appends in its own way.
@Suite("E-mail replies without the quoted thread")
struct QuotedReplyTests {
    @Test("Gmail, Apple Mail and Thunderbird attributions (also wrapped over two lines), Outlook's header block in English and Portuguese (with or without the line above) and its 'Original Message' marker are cut",
          arguments: [
            "Segue o anexo.\n\nOn Tue, Dec 1, 2026 at 10:00 AM Suporte Ocorrências <\nsuporte+abc@suporte.example> wrote:\n\n> Pode enviar o XML?\n",
            "Segue o anexo.\n\nEm ter., 1 de dez. de 2026 às 10:00, Suporte <suporte@suporte.example> escreveu:\n> Pode enviar o XML?\n",
            "Segue o anexo.\r\n\r\n________________________________\r\nFrom: Suporte <suporte@suporte.example>\r\nSent: Tuesday, December 1, 2026 10:00 AM\r\nTo: Maria\r\nSubject: Pode enviar o XML?\r\n\r\nPode enviar o XML?\r\n",
            "Segue o anexo.\n\nDe: Suporte <suporte@suporte.example>\nEnviado: terça-feira, 1 de dezembro de 2026 10:00\nPara: Maria\nAssunto: XML\n\nPode enviar o XML?\n",
            "Segue o anexo.\n\nFrom: Suporte <suporte@suporte.example>\nDate: Tuesday, 1 December 2026 at 10:00\nTo: Maria\n\nPode enviar o XML?\n",
            "Segue o anexo.\n-----Original Message-----\nFrom: Suporte\nPode enviar o XML?\n",
            "Segue o anexo.\n\n-------- Mensagem original --------\nDe: Suporte <suporte@suporte.example>\nData: 01/12/2026 10:00 (GMT-03:00)\nPara: Maria\nAssunto: XML\n\nPode enviar o XML?\n",
            "Segue o anexo.\n\n-------- Original message --------\nFrom: Suporte <suporte@suporte.example>\nDate: 12/1/26 10:00 AM (GMT-03:00)\n\nPode enviar o XML?\n",
            "Segue o anexo.\n\nEm 1 de dez. de 2026, à(s) 10:00, Suporte <suporte@suporte.example> escreveu:\n\n> Pode enviar o XML?\n",
            "Segue o anexo.\n\nEm 01/12/2026 10:00, Suporte escreveu:\n> Pode enviar o XML?\n",
          ])
    func trimmed(text: String) {
        #expect(IntakeContext.withoutQuotedText(text) == "Segue o anexo.")
    }

    @Test("a reply that only quotes, or whose own text mentions 'from:' or 'on ...', keeps what the customer wrote")
    func kept() {
        #expect(IntakeContext.withoutQuotedText("> só citação\n") == "> só citação")
        let text = "From: the ERP log, line 12\nOn Monday the error came back.\nIt says: rejeição 539."
        #expect(IntakeContext.withoutQuotedText(text) == text)
    }

    @Test("a customer's own sentence that starts with 'Em' and ends with 'escreveu:' (no date in it) is not taken for an attribution",
          arguments: [
            "Bom dia.\nEm relação ao que o analista escreveu:\n- o erro voltou\n- a nota não sai",
            "Bom dia.\nEm anexo o print.\nVeja o que o sistema escreveu:\nErro ao transmitir a nota.",
            "Bom dia.\nOn the screen the system wrote:\nErro ao transmitir a nota.",
          ])
    func ownSentenceKept(text: String) {
        #expect(IntakeContext.withoutQuotedText(text) == text)
    }

    @Test("a real CRLF message's quoted-printable body (Outlook's way) is trimmed the same: GMime keeps its CRLF line ends")
    func outlookCRLF() throws {
        let raw = Array(("From: Maria Souza <maria@acme.example>\r\nTo: suporte@suporte.example\r\nSubject: RE: XML\r\n"
            + "Message-ID: <outlook-1@acme.example>\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + "Segue o XML da nota, n=E3o transmite.\r\n\r\n________________________________\r\n"
            + "From: Suporte <suporte@suporte.example>\r\nSent: Tuesday, December 1, 2026 10:00 AM\r\n"
            + "To: Maria Souza\r\nSubject: XML\r\n\r\nPode enviar o XML?\r\n").utf8)
        let mail = try MailMessage(raw: raw)
        #expect(IntakeContext.withoutQuotedText(mail.text) == "Segue o XML da nota, não transmite.")
    }
}
