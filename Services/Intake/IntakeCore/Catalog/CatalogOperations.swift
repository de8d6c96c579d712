import Foundation
import Messages
import RPC
import Storage

/// Intake's configurable lists (channels, origins), custom fields and support-policy texts.
extension IntakeContext {
    /// The entries of `list` ("channel" or "origin"), in display order.
    public func listEntries(_ list: String, includeInactive: Bool) throws -> [IntakeV1.ListEntry] {
        try database.read { tx in try CatalogStore.entries(tx, list: list, includeInactive: includeInactive) }
    }

    /// Adds or changes an entry of `list` (administrators only). A built-in entry
    /// (``BuiltInEntries``) keeps its origin kind and cannot be deactivated: `INVALID_ARGUMENT`
    /// with field `active` (or `origin_kind`), reason `built_in`, and nothing is stored.
    public func putEntry(_ list: String, _ entry: IntakeV1.ListEntry, caller: Caller) throws -> IntakeV1.ListEntry {
        try caller.requireAdministrator()
        var violations = Violations()
        let key = entry.key.trimmingCharacters(in: .whitespaces).lowercased()
        if key.isEmpty || key.count > 40 || !key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
            violations.add("key", "invalid_key", pt: "Use de 1 a 40 letras, dígitos, '-' ou '_'.",
                           en: "Use 1 to 40 letters, digits, '-' or '_'.")
        }
        violations.required("label_pt", entry.labelPt)
        // A label is a name on a form and a ticket page (150,000 characters were stored).
        violations.maxLength("label_pt", entry.labelPt, 200)
        violations.maxLength("label_en", entry.labelEn, 200)
        if list == "origin" && entry.originKind == .unspecified {
            violations.add("origin_kind", "required", pt: "Informe se é cliente, representante ou interno.",
                           en: "Choose customer, representative or internal.")
        }
        if BuiltInEntries.contains(list, key) {
            if !entry.active {
                violations.add("active", "built_in", pt: "Esta entrada é usada pelo próprio sistema e não pode ser desativada; só renomeada.",
                               en: "This entry is used by the system itself and cannot be deactivated; only renamed.")
            }
            if list == "origin", let kind = BuiltInEntries.originKinds[key], entry.originKind != .unspecified, entry.originKind != kind {
                violations.add("origin_kind", "built_in", pt: "O tipo desta origem é fixo.", en: "This origin's kind is fixed.")
            }
        }
        try violations.check()
        var stored = entry
        stored.key = key
        stored.builtIn = BuiltInEntries.contains(list, key)
        if stored.labelEn.isEmpty { stored.labelEn = stored.labelPt }
        let value = stored
        return try write(list == "origin" ? "PutOrigin" : "PutChannel", caller, entry) { tx in
            try CatalogStore.put(tx, list: list, value)
            return value
        }
    }

    /// Custom fields, optionally only those that apply to a product and category.
    public func listCustomFields(_ request: IntakeV1.ListCustomFieldsRequest) throws -> [IntakeV1.CustomField] {
        let all = try database.read { try CatalogStore.customFields($0) }
        return all.filter { field in
            (request.includeInactive || field.active)
                && (request.product.isEmpty || field.product.isEmpty || CustomFieldValidation.sameProduct(field.product, request.product))
                && (request.category == .unspecified || field.category == .unspecified || field.category == request.category)
        }
    }

    /// Defines or changes a custom field (administrators only).
    public func putCustomField(_ field: IntakeV1.CustomField, caller: Caller) throws -> IntakeV1.CustomField {
        try caller.requireAdministrator()
        var violations = Violations()
        let key = field.key.trimmingCharacters(in: .whitespaces)
        if key.isEmpty || key.count > 60 || !key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
            violations.add("key", "invalid_key", pt: "Use de 1 a 60 letras, dígitos, '-' ou '_'.",
                           en: "Use 1 to 60 letters, digits, '-' or '_'.")
        }
        violations.required("label_pt", field.labelPt)
        violations.maxLength("label_pt", field.labelPt, 200)
        violations.maxLength("label_en", field.labelEn, 200)
        if field.kind == .unspecified {
            violations.add("kind", "required", pt: "Informe o tipo do campo.", en: "Choose the field's kind.")
        }
        // Choices as a value is compared with them: trimmed (" SP" could never be chosen), each
        // once, blanks dropped.
        var choices: [String] = []
        for (index, given) in field.choices.enumerated() {
            let choice = Self.trimmed(given)
            violations.maxLength("choices[\(index)]", choice, 200)
            if !choice.isEmpty && !choices.contains(choice) { choices.append(choice) }
        }
        if field.kind == .fieldChoice && choices.isEmpty {
            violations.add("choices", "required", pt: "Informe as opções.", en: "List the choices.")
        }
        try violations.check()
        var stored = field
        stored.key = key
        stored.choices = choices
        if stored.labelEn.isEmpty { stored.labelEn = stored.labelPt }
        let value = stored
        return try write("PutCustomField", caller, field) { tx in
            try CatalogStore.put(tx, value)
            return value
        }
    }

    /// The support policy texts (defaults until an administrator changes them).
    public func supportPolicy() throws -> IntakeV1.SupportPolicy {
        try database.read { try CatalogStore.policy($0) }
    }

    /// Replaces the support policy texts (administrators only): one definition per priority,
    /// none or one explanation per category, writing tips; each in Portuguese (required) and
    /// English (the Portuguese when left empty). Otherwise `INVALID_ARGUMENT` naming each
    /// offending field (e.g. `priorities[2].text_pt`), and the stored policy is unchanged.
    public func putSupportPolicy(_ policy: IntakeV1.SupportPolicy, caller: Caller) throws -> IntakeV1.SupportPolicy {
        try caller.requireAdministrator()
        let stored = try SupportPolicyRules.checked(policy)
        return try write("PutSupportPolicy", caller, policy) { tx in
            try CatalogStore.put(tx, stored)
            return CatalogStore.completed(stored)
        }
    }
}

/// SQL of the catalog tables.
enum CatalogStore {
    static func entries(_ tx: any SQLExecutor, list: String, includeInactive: Bool) throws -> [IntakeV1.ListEntry] {
        try tx.query("""
            SELECT key, label_pt, label_en, active, position, origin_kind FROM list_entries
            WHERE list = ? AND (active = 1 OR ? = 1) ORDER BY position, key
            """, [.text(list), SQLValue(includeInactive)]).map { row in
            var entry = IntakeV1.ListEntry()
            entry.key = try row.text("key")
            entry.labelPt = try row.text("label_pt")
            entry.labelEn = try row.text("label_en")
            entry.active = try row.bool("active")
            entry.position = Int32(try row.int("position"))
            entry.originKind = CommonV1.Origin(_protoRawValue: Int32(try row.int("origin_kind")))
            entry.builtIn = BuiltInEntries.contains(list, entry.key)
            return entry
        }
    }

    /// The active entry `key` of `list`, if any.
    static func activeEntry(_ tx: any SQLExecutor, list: String, key: String) throws -> IntakeV1.ListEntry? {
        guard let row = try tx.queryOne("""
            SELECT key, origin_kind FROM list_entries WHERE list = ? AND key = ? AND active = 1
            """, [.text(list), .text(key)]) else { return nil }
        var entry = IntakeV1.ListEntry()
        entry.key = try row.text("key")
        entry.active = true
        entry.originKind = CommonV1.Origin(_protoRawValue: Int32(try row.int("origin_kind")))
        return entry
    }

    /// Adds or changes an entry of `list`, and bumps the catalog version (``CatalogCache``).
    static func put(_ tx: any SQLExecutor, list: String, _ entry: IntakeV1.ListEntry) throws {
        _ = try DirectoryStore.nextCounter(tx, CatalogCache.versionCounter)
        try tx.execute("""
            INSERT INTO list_entries (list, key, label_pt, label_en, active, position, origin_kind) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (list, key) DO UPDATE SET label_pt = excluded.label_pt, label_en = excluded.label_en,
                active = excluded.active, position = excluded.position, origin_kind = excluded.origin_kind
            """, [.text(list), .text(entry.key), .text(entry.labelPt), .text(entry.labelEn), SQLValue(entry.active),
                  .integer(Int64(entry.position)), .integer(Int64(entry.originKind.rawValue))])
    }

    static func customFields(_ tx: any SQLExecutor) throws -> [IntakeV1.CustomField] {
        try tx.query("SELECT definition FROM custom_fields ORDER BY position, key", []).map {
            try IntakeV1.CustomField(serializedBytes: try $0.blob("definition"))
        }
    }

    /// Defines or changes a custom field, and bumps the catalog version (``CatalogCache``).
    static func put(_ tx: any SQLExecutor, _ field: IntakeV1.CustomField) throws {
        _ = try DirectoryStore.nextCounter(tx, CatalogCache.versionCounter)
        try tx.execute("""
            INSERT INTO custom_fields (key, definition, product, category, active, position) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET definition = excluded.definition, product = excluded.product,
                category = excluded.category, active = excluded.active, position = excluded.position
            """, [.text(field.key), .blob(field.serializedBytes()), .text(field.product),
                  .integer(Int64(field.category.rawValue)), SQLValue(field.active), .integer(Int64(field.position))])
    }

    static func policy(_ tx: any SQLExecutor) throws -> IntakeV1.SupportPolicy {
        guard let text = try tx.queryOne("SELECT value FROM settings WHERE key = 'support_policy'")?.text("value"),
              let data = Data(base64Encoded: text) else { return defaultPolicy }
        return completed(try IntakeV1.SupportPolicy(serializedBytes: Array(data)))
    }

    /// `policy` with the default category explanations when it has none (a policy stored before
    /// they existed, or put without them).
    static func completed(_ policy: IntakeV1.SupportPolicy) -> IntakeV1.SupportPolicy {
        guard policy.categories.isEmpty else { return policy }
        var policy = policy
        policy.categories = defaultPolicy.categories
        return policy
    }

    static func put(_ tx: any SQLExecutor, _ policy: IntakeV1.SupportPolicy) throws {
        try tx.execute("""
            INSERT INTO settings (key, value) VALUES ('support_policy', ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """, [.text(Data(policy.serializedBytes()).base64EncodedString())])
    }

    static let defaultPolicy: IntakeV1.SupportPolicy = {
        func definition(_ priority: CommonV1.Priority, _ pt: String, _ en: String) -> IntakeV1.PriorityDefinition {
            var value = IntakeV1.PriorityDefinition()
            value.priority = priority
            value.textPt = pt
            value.textEn = en
            return value
        }
        func explanation(_ category: CommonV1.Category, _ pt: String, _ en: String) -> IntakeV1.CategoryDefinition {
            var value = IntakeV1.CategoryDefinition()
            value.category = category
            value.textPt = pt
            value.textEn = en
            return value
        }
        var policy = IntakeV1.SupportPolicy()
        policy.categories = [
            explanation(.problema, "Algo que funcionava deixou de funcionar ou dá erro: uma tela, rotina, integração ou relatório.",
                        "Something that worked stopped working or fails: a screen, routine, integration or report."),
            explanation(.duvida, "Como usar ou configurar algo que já existe no sistema.", "How to use or set up something the system already does."),
            explanation(.exigenciaFiscal, "Uma obrigação legal ou fiscal nova ou alterada (leiaute, alíquota, regra da SEFAZ) que o sistema precisa atender, com o prazo.",
                        "A new or changed legal or tax obligation (layout, rate, tax authority rule) the system must meet, with its deadline."),
            explanation(.necessidade, "Algo que a sua operação precisa e o sistema ainda não faz.", "Something your operation needs that the system does not do yet."),
            explanation(.sugestaoMelhoria, "Uma ideia para melhorar o que já existe, sem urgência.", "An idea to improve what exists, with no urgency."),
            explanation(.estrategica, "Assunto interno da equipe de suporte ou de produto (só a equipe abre).",
                        "An internal matter of the support or product team (staff only)."),
        ]
        policy.priorities = [
            definition(.baixa, "Dúvida ou ajuste sem impacto na operação.", "A question or adjustment with no impact on the operation."),
            definition(.normal, "Problema com alternativa de contorno; a operação continua.", "A problem with a workaround; the operation goes on."),
            definition(.alta, "Problema sem contorno que afeta parte da operação.", "A problem with no workaround affecting part of the operation."),
            definition(.urgente, "Operação parada ou prazo legal/fiscal em risco.", "The operation is stopped or a legal/tax deadline is at risk."),
        ]
        policy.writingTipsPt = """
            Descreva o que aconteceu, os passos para reproduzir, o resultado esperado e o impacto na operação. \
            Informe versão do sistema, banco de dados, ambiente, coligada/filial, a tela ou rotina e um registro de exemplo. \
            Se começou após uma atualização, informe a versão anterior e a atual, desde quando acontece e se afeta um ou todos os usuários.
            """
        policy.writingTipsEn = """
            Describe what happened, the steps to reproduce it, the expected result and the impact on the operation. \
            Give the system version, database, environment, company/branch, the screen or routine and an example record. \
            If it started after an update, give the previous and current versions, since when it happens and whether it affects one user or all.
            """
        return policy
    }()
}
