import Foundation
import Messages

/// How `ocorre tickets list` and `ocorre tickets show` read to people: headers and names in the
/// chosen language (`--lang`, `OCORRE_LANG`; Portuguese by default), dates in the local time
/// zone, categories and priorities by name. `--json` prints the API's answer instead.
enum TicketText {
    static func language(_ options: Ocorre.Options) -> DisplayLanguage {
        DisplayLanguage(code: options.flags["lang"] ?? ProcessInfo.processInfo.environment["OCORRE_LANG"] ?? "pt")
    }

    /// A queue or customer listing (workflow's `TicketRow`s) as a table.
    static func list(_ tickets: [[String: Any]], _ language: DisplayLanguage) -> String {
        let pt = language == .portuguese
        let headers = pt ? ["CÓDIGO", "ASSUNTO", "ETAPA", "PRIORIDADE", "CLIENTE", "RESPONSÁVEL", "SLA", "ÚLTIMA INTERAÇÃO"]
                         : ["CODE", "SUBJECT", "STAGE", "PRIORITY", "CUSTOMER", "HOLDER", "SLA", "LAST INTERACTION"]
        let rows = tickets.map { row -> [String] in
            [text(row["code"]), text(row["subject"]), stage(row, "stage_name", language), priority(row["priority"], language),
             text(row["organization_name"]), holder(row["holder"]), sla(row["sla_state"], language),
             date(row["last_interaction_at_ms"], language)]
        }
        return Ocorre.table(headers: headers, rows: rows, empty: pt ? "(nenhuma ocorrência)" : "(no tickets)")
    }

    /// A knowledge search's hits as a table (kind, title, product / module, id), best first, then
    /// the typo corrections the search applied.
    static func searchHits(_ answer: [String: Any], _ language: DisplayLanguage) -> String {
        let pt = language == .portuguese
        let hits = answer["hits"] as? [[String: Any]] ?? []
        let kinds: [String: (String, String)] = ["FAQ": ("FAQ", "FAQ"), "TIP": ("Dica", "Tip"), "ARTICLE": ("Artigo", "Article")]
        let headers = pt ? ["TIPO", "TÍTULO", "PRODUTO / MÓDULO", "ID"] : ["KIND", "TITLE", "PRODUCT / MODULE", "ID"]
        let rows = hits.map { hit -> [String] in
            let kind = hit["forum_entry"] as? Bool == true ? (pt ? "Fórum" : "Forum")
                : kinds[text(hit["kind"])].map { pt ? $0.0 : $0.1 } ?? text(hit["kind"])
            let place = [text(hit["product"]), text(hit["module"])].filter { !$0.isEmpty }.joined(separator: " / ")
            return [kind, text(hit["title"]), place, text(hit["id"])]
        }
        var out = Ocorre.table(headers: headers, rows: rows, empty: pt ? "(nada encontrado)" : "(nothing found)")
        let corrections = (answer["corrections"] as? [String] ?? []).filter { !$0.isEmpty }
        if !corrections.isEmpty { out += (pt ? "\nCorrigido: " : "\nCorrected: ") + corrections.joined(separator: ", ") }
        return out
    }

    /// A ticket as the gateway's view composes it (intake's part and workflow's part); its channel
    /// and origin by their `labels` (their keys when the lists could not be read).
    /// - Parameter sla: workflow's `GetTicketSLAResponse` (`GET /v1/tickets/{id}/sla`, staff only):
    ///   each running, paused, met or breached target with its due time.
    static func view(_ answer: [String: Any], _ language: DisplayLanguage, labels: ListLabels = ListLabels(),
                     sla targets: [String: Any]? = nil) -> String {
        let pt = language == .portuguese
        let intake = answer["intake"] as? [String: Any] ?? [:]
        let workflow = answer["workflow"] as? [String: Any]
        let row = workflow?["row"] as? [String: Any] ?? [:]
        var lines: [String] = []
        func field(_ pt: String, _ en: String, _ value: String) {
            if !value.isEmpty && value != "—" { lines.append("\(language == .portuguese ? pt : en): \(value)") }
        }
        let code = text(row["code"] ?? intake["code"]), subject = text(row["subject"] ?? intake["subject"])
        lines.append("\(code)  \(subject)")
        lines.append(String(repeating: "=", count: min(100, code.count + subject.count + 2)))
        if answer["workflow_unavailable"] as? Bool == true {
            lines.append(pt ? "(workflow indisponível agora: etapa, atendimento e discussão faltam; tente de novo em instantes)"
                            : "(workflow unavailable right now: stage, handling and discussion are missing; try again in a moment)")
        } else if workflow == nil {
            lines.append(pt ? "(o workflow ainda não recebeu esta ocorrência: etapa e histórico aparecem em instantes)"
                            : "(workflow has not received this ticket yet: stage and history show in a moment)")
        }
        let stageName = stage(row, "stage_name", language)
        field("Etapa", "Stage", stageName.isEmpty ? stage(workflow ?? [:], "customer_stage_name", language) : stageName)
        let status = (row["status"] as? [String: Any]).map { text($0["status"]) } ?? ""
        field("Situação", "Status", status.replacingOccurrences(of: "_", with: " "))
        field("Categoria", "Category", category(row["category"] ?? intake["category"], language))
        field("Prioridade", "Priority", priority(row["priority"] ?? intake["priority"], language))
        let organization = intake["organization"] as? [String: Any] ?? [:]
        field("Cliente", "Customer", text(row["organization_name"] ?? organization["name"]))
        field("Contato", "Contact", person(workflow?["contact"] ?? intake["contact"]))
        field("Representante", "Representative", person(workflow?["representative"] ?? intake["representative"]))
        field("Responsável", "Holder", holder(row["holder"]))
        let product = [text(row["product"] ?? intake["product"]), text(row["module"] ?? intake["module"])].filter { !$0.isEmpty }
        field("Produto / módulo", "Product / module", product.joined(separator: " / "))
        field("Canal", "Channel", labels.channel(workflow?["channel"] ?? intake["channel"], language))
        field("Origem", "Origin", labels.origin(intake["origin"], language))
        field("Aberta em", "Opened", date(row["opened_at_ms"] ?? intake["opened_at_ms"], language))
        field("Última interação", "Last interaction", date(row["last_interaction_at_ms"], language))
        field("Finalizada em", "Finished", date(workflow?["finished_at_ms"], language))
        // How it ended, in the portal's and the e-mails' words: the label the gateway sent in the
        // chosen language (outcome_label, outcome_label_en), else this CLI's copy of TicketOutcome.
        field("Desfecho", "Outcome", text(workflow?[language == .portuguese ? "outcome_label" : "outcome_label_en"]).nonEmpty
              ?? TicketOutcome.label(text(workflow?["outcome"]), language))
        let due = date(row["sla_due_at_ms"], language)
        field("SLA", "SLA", [sla(row["sla_state"], language), due.isEmpty ? "" : (pt ? "prazo \(due)" : "due \(due)")]
            .filter { !$0.isEmpty }.joined(separator: ", "))

        for target in targets?["targets"] as? [[String: Any]] ?? [] where text(target["status"]) != "inactive" {
            let due = date(target["due_at_ms"], language)
            let state = named(target["status"], ["running": ("em curso", "running"), "paused": ("pausado", "paused"),
                                                 "met": ("cumprido", "met"), "breached": ("estourado", "breached")], language)
            field("SLA " + named(target["target"], slaTargets, .portuguese), "SLA " + named(target["target"], slaTargets, .english),
                  [state, due.isEmpty ? "" : (pt ? "prazo \(due)" : "due \(due)")].filter { !$0.isEmpty }.joined(separator: ", "))
        }

        let request = text(workflow?["request"] ?? intake["request"])
        if !request.isEmpty { lines += ["", pt ? "Solicitação:" : "Request:"] + indented(request) }
        let solution = text(workflow?["solution"])
        if !solution.isEmpty { lines += ["", pt ? "Solução:" : "Solution:"] + indented(solution) }

        let files = (workflow?["attachments"] ?? intake["attachments"]) as? [[String: Any]] ?? []
        if !files.isEmpty {
            lines += ["", pt ? "Arquivos:" : "Files:"]
            for file in files {
                let mark = file["internal"] as? Bool == true ? (pt ? " [interno]" : " [internal]") : ""
                lines.append("  - \(text(file["file_name"])) (\(size(file["size_bytes"])))\(mark)  id \(text(file["id"]))")
            }
        }
        let entries = workflow?["discussion"] as? [[String: Any]] ?? []
        if !entries.isEmpty {
            lines += ["", pt ? "Discussão:" : "Discussion:"]
            for entry in entries {
                let visibility = entry["is_public"] as? Bool == true ? "" : (pt ? " [interna]" : " [internal]")
                lines.append("  \(date(entry["added_at_ms"], language))  \(text(entry["author_name"]))  \(kind(entry["kind"], language))\(visibility)")
                lines += indented(text(entry["text"]), by: 6)
                for file in entry["attachments"] as? [[String: Any]] ?? [] {
                    lines.append("      📎 \(text(file["file_name"])) (\(size(file["size_bytes"])))  id \(text(file["id"]))")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Workflow's history lines (`GetHistoryResponse.entries`) as a table, oldest first.
    static func history(_ entries: [[String: Any]], _ language: DisplayLanguage) -> String {
        let pt = language == .portuguese
        let headers = pt ? ["QUANDO", "QUEM", "O QUÊ", "DE", "PARA", "NOTA"] : ["WHEN", "WHO", "WHAT", "FROM", "TO", "NOTE"]
        let rows = entries.map { entry in
            [date(entry["at_ms"], language), text(entry["actor_name"]), named(entry["kind"], historyKinds, language), text(entry["old_value"]),
             text(entry["new_value"]), text(entry["note"])]
        }
        return Ocorre.table(headers: headers, rows: rows, empty: pt ? "(sem histórico)" : "(no history)")
    }

    static let slaTargets: [String: (String, String)] = [
        "FIRST_RESPONSE": ("primeira resposta", "first response"), "NEXT_RESPONSE": ("próxima resposta", "next response"),
        "RESOLUTION": ("solução", "resolution"),
    ]

    /// What each kind of workflow's history line is called (`ticket_history.kind`); a kind not
    /// listed shows as it is.
    static let historyKinds: [String: (String, String)] = [
        "opened": ("Aberta", "Opened"), "email": ("E-mail", "E-mail"), "holder": ("Responsável", "Holder"), "stage": ("Etapa", "Stage"),
        "status": ("Situação", "Status"), "priority": ("Prioridade", "Priority"), "category": ("Categoria", "Category"),
        "access_level": ("Nível de acesso", "Access level"), "attachment": ("Arquivo", "File"), "contact": ("Contato", "Contact"),
        "discussion": ("Discussão", "Discussion"), "fields": ("Campos", "Fields"), "fila": ("Fila", "Queue"),
        "inactivity": ("Inatividade", "Inactivity"), "link": ("Vínculo", "Link"), "plan": ("Planejamento", "Plan"),
        "read": ("Leitura", "Read"), "schedule": ("Agendamento", "Schedule"), "service_type": ("Tipo de atendimento", "Service type"),
        "step": ("Passo", "Step"), "text": ("Texto", "Text"), "time": ("Tempo", "Time"), "version": ("Versão", "Version"),
        "view": ("Visualização", "View"),
    ]

    // MARK: values

    /// A stage as workflow names it in `language`: `entry[field]` in Portuguese, `entry[field_en]`
    /// in English (the flow's own English name; the Portuguese one when there is none).
    static func stage(_ entry: [String: Any], _ field: String, _ language: DisplayLanguage) -> String {
        let english = language == .english ? text(entry[field + "_en"]) : ""
        return english.isEmpty ? text(entry[field]) : english
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case let string as String: string
        case let number as NSNumber: number.stringValue
        default: ""
        }
    }

    static func priority(_ value: Any?, _ language: DisplayLanguage) -> String {
        CommonV1.Priority(protoName: text(value)).map { $0.label(language) } ?? text(value)
    }

    static func category(_ value: Any?, _ language: DisplayLanguage) -> String {
        CommonV1.Category(protoName: text(value)).map { $0.label(language) } ?? text(value)
    }

    /// "Ana (Suporte N1)", the group alone while nobody holds it.
    static func holder(_ value: Any?) -> String {
        guard let holder = value as? [String: Any] else { return "" }
        let agent = text(holder["agent_name"]), group = text(holder["group_name"])
        if agent.isEmpty { return group }
        return group.isEmpty ? agent : "\(agent) (\(group))"
    }

    static func person(_ value: Any?) -> String {
        guard let person = value as? [String: Any] else { return "" }
        let name = text(person["name"]), email = text(person["email"])
        if name.isEmpty { return email }
        return email.isEmpty ? name : "\(name) <\(email)>"
    }

    static func sla(_ value: Any?, _ language: DisplayLanguage) -> String {
        named(value, ["breached": ("Atrasada", "Breached"), "at_risk": ("Em risco", "At risk"),
                      "paused": ("Pausada", "Paused"), "on_time": ("No prazo", "On time")], language)
    }

    static func kind(_ value: Any?, _ language: DisplayLanguage) -> String {
        named(value, [
            "note": ("Nota", "Note"), "transfer": ("Repasse", "Transfer"), "possible_solution": ("Possível solução", "Possible solution"),
            "customer_reply": ("Resposta do cliente", "Customer reply"), "request_info": ("Pedido de informação", "Information request"),
            "solution": ("Solução", "Solution"), "article": ("Artigo", "Article"), "voicemail": ("Recado de voz", "Voicemail"),
        ], language)
    }

    /// A value's name in `language` (Portuguese, English); the value itself when it has none.
    static func named(_ value: Any?, _ names: [String: (String, String)], _ language: DisplayLanguage) -> String {
        guard let pair = names[text(value)] else { return text(value) }
        return language == .portuguese ? pair.0 : pair.1
    }

    /// Epoch milliseconds in the local time zone ("30/11/2026 14:05" or "2026-11-30 14:05"); empty for 0 or nothing.
    static func date(_ value: Any?, _ language: DisplayLanguage) -> String {
        guard let milliseconds = Int64(text(value)), milliseconds > 0 else { return "" }
        let at = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute],
                                                 from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        let (y, m, d, h, min) = (at.year ?? 0, at.month ?? 0, at.day ?? 0, at.hour ?? 0, at.minute ?? 0)
        return language == .portuguese ? String(format: "%02d/%02d/%04d %02d:%02d", d, m, y, h, min)
                                       : String(format: "%04d-%02d-%02d %02d:%02d", y, m, d, h, min)
    }

    static func size(_ value: Any?) -> String {
        let bytes = Double(text(value)) ?? 0
        if bytes < 1024 { return "\(Int(bytes)) B" }
        if bytes < 1024 * 1024 { return String(format: "%.1f KiB", bytes / 1024) }
        return String(format: "%.1f MiB", bytes / 1024 / 1024)
    }

    static func indented(_ text: String, by spaces: Int = 2) -> [String] {
        let pad = String(repeating: " ", count: spaces)
        // "\r\n" is one Character: texts stored with CRLF are indented line by line too.
        return text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { pad + $0 }
    }
}
