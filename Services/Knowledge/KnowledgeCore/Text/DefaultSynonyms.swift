import Foundation

/// The synonyms and abbreviations a new knowledge base starts with (one group per line, terms
/// separated by `|`). They are copied into the database on first start (groups added by a later
/// release at its first start) and edited over RPC from then on (`PutSynonymGroup`,
/// `DeleteSynonymGroup`).
public enum DefaultSynonyms {
    public static let text = """
        nf | nfe | nf-e | nota fiscal | nota fiscal eletronica
        nfc-e | nfce | nota fiscal de consumidor | cupom fiscal | cupom
        nfs-e | nfse | nota fiscal de servico | nota de servico
        ct-e | cte | conhecimento de transporte
        mdf-e | mdfe | manifesto
        travando | travado | trava | lentidao | lento | demora | demorando | congelando | congelado | devagar
        emitir | emissao | gerar | transmitir | transmissao
        cancelar | cancelamento | estornar | estorno
        boleto | cobranca | titulo
        senha | acesso | login | entrar
        certificado | certificado digital | a1 | a3
        sefaz | receita | secretaria da fazenda
        rejeicao | rejeitada | rejeitado | erro de validacao
        impressora | imprimir | impressao | danfe
        estoque | inventario
        pedido | ordem de venda | venda
        fiscal | fiscais
        cnpj | cadastro nacional
        icms | imposto | tributo
        xml | arquivo xml
        relatorio | relatorios | listagem
        backup | copia de seguranca
        atualizar | atualizacao | versao | update
        pix | transferencia
        sped | efd | escrituracao
        """

    /// Groups added after the first release, one text per release (appended, never edited):
    /// each reaches a database seeded before it once, at the next start (``SynonymStore/seedDefaults(_:)``).
    /// The analyser drops the "e" of "e-mail" (a stop word), so the hyphenated spellings need a group.
    public static let added = [
        """
        email | e-mail
        esocial | e-social
        nfce | nota de consumidor | nota do consumidor
        """,
    ]

    /// The default groups by edition (the first release's ``text``, then each of ``added``), each a list of terms.
    public static var editions: [[[String]]] {
        ([text] + added).map { edition in
            edition.split(separator: "\n").map { line in
                line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }.filter { $0.count > 1 }
        }
    }

    /// Every default group, each a list of terms.
    public static var groups: [[String]] { editions.flatMap { $0 } }
}
