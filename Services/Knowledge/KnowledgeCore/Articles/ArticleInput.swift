import Foundation
import Messages
import RPC

/// The editable fields of an article, validated.
struct ArticleInput: Sendable {
    var kind: KnowledgeV1.ArticleKind
    var title: String
    var bodyMarkdown: String
    var product: String
    var module: String
    var category: String
    var tags: [String]
    var visibility: KnowledgeV1.Visibility
    var state: KnowledgeV1.ArticleState

    static let maxTitle = 200
    static let maxBody = 100_000
    /// Product and module as long as a ticket's (intake's limit), so a FAQ asked from any ticket
    /// can become an article (it was 80: such a request could only be rejected).
    static let maxProduct = 100
    static let maxCategory = 80

    /// `too_long` for a product, module or category an article could not hold.
    static func labelViolations(product: String, module: String, category: String) -> [FieldViolation] {
        [FieldViolation.length(of: product.trimmingCharacters(in: .whitespaces), "product", limit: maxProduct),
         FieldViolation.length(of: module.trimmingCharacters(in: .whitespaces), "module", limit: maxProduct),
         FieldViolation.length(of: category.trimmingCharacters(in: .whitespaces), "category", limit: maxCategory)].compactMap { $0 }
    }

    /// - Throws: `INVALID_ARGUMENT` listing every offending field.
    func validated() throws -> ArticleInput {
        var violations: [FieldViolation] = []
        var input = self
        input.title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        input.product = product.trimmingCharacters(in: .whitespaces)
        input.module = module.trimmingCharacters(in: .whitespaces)
        input.category = category.trimmingCharacters(in: .whitespaces)
        input.tags = tags.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if input.state == .unspecified { input.state = .draft }
        if input.title.isEmpty {
            violations.append(FieldViolation(field: "title", reason: "required", pt: "Informe o título.", en: "A title is required."))
        } else if input.title.count > Self.maxTitle {
            violations.append(FieldViolation(field: "title", reason: "too_long", pt: "No máximo \(Self.maxTitle) caracteres.",
                                             en: "At most \(Self.maxTitle) characters."))
        }
        if input.bodyMarkdown.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            violations.append(FieldViolation(field: "body_markdown", reason: "required", pt: "Informe o texto.", en: "A body is required."))
        } else if input.bodyMarkdown.utf8.count > Self.maxBody {
            violations.append(FieldViolation(field: "body_markdown", reason: "too_long", pt: "Texto longo demais (máximo 100 kB).",
                                             en: "Body too long (100 kB at most)."))
        }
        if kind == .unspecified {
            violations.append(FieldViolation(field: "kind", reason: "required", pt: "Escolha FAQ, dica ou artigo.",
                                             en: "Choose FAQ, tip or article."))
        }
        if visibility == .unspecified {
            violations.append(FieldViolation(field: "visibility", reason: "required", pt: "Escolha público ou interno.",
                                             en: "Choose public or internal."))
        }
        violations += Self.labelViolations(product: input.product, module: input.module, category: input.category)
        if input.tags.count > 20 || input.tags.contains(where: { $0.count > 40 || $0.contains("|") }) {
            violations.append(FieldViolation(field: "tags", reason: "invalid", pt: "Até 20 etiquetas de até 40 caracteres, sem '|'.",
                                             en: "Up to 20 tags of up to 40 characters, without '|'."))
        }
        let texts = [input.title, input.bodyMarkdown, input.product, input.module, input.category] + input.tags
        if texts.contains(where: { $0.contains("\u{0}") }) {
            violations.append(FieldViolation(field: "body_markdown", reason: "nul", pt: "O texto contém o caractere NUL.",
                                             en: "The text contains a NUL character."))
        }
        guard violations.isEmpty else {
            throw RPCError(.invalidArgument, "artigo inválido / invalid article", violations: violations)
        }
        return input
    }
}
