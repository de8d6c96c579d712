import Foundation
import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

@Suite("Configurable lists, custom fields and support policy", .serialized)
struct CatalogTests {
    @Test("channels and origins have defaults; an administrator adds one and tickets accept it", arguments: TestEngines.all)
    func channels(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let list = try harness.client.call(IntakeV1.Intake.listChannels, IntakeV1.ListEntriesRequest(), options: harness.staff)
        #expect(list.entries.map(\.key) == ["portal", "email", "phone", "whatsapp", "skype", "chat", "internal", "api"])
        let origins = try harness.client.call(IntakeV1.Intake.listOrigins, IntakeV1.ListEntriesRequest(), options: harness.staff)
        #expect(origins.entries.map(\.key) == ["customer", "representative", "internal"])
        var entry = IntakeV1.ListEntry()
        entry.key = "0800"
        entry.labelPt = "Telefone 0800"
        entry.active = true
        entry.position = 8
        let nonAdmin = harness.options(IntakeHarness.agent("agent-2", administrator: false))
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.putChannel, entry, options: nonAdmin) }?.code == .permissionDenied)
        _ = try harness.client.call(IntakeV1.Intake.putChannel, entry, options: harness.staff)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        var request = IntakeHarness.request(acme)
        request.contactID = maria.id
        request.channel = "0800"
        #expect(try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.staff).ticket?.channel == "0800")
        entry.active = false
        _ = try harness.client.call(IntakeV1.Intake.putChannel, entry, options: harness.staff)
        request.subject = "Outro"
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.staff) }?.violations.map(\.field) == ["channel"])
    }

    @Test("the channels and origins intake uses itself are marked built-in: renamed, never deactivated nor an origin's kind changed",
          arguments: TestEngines.all)
    func builtInEntries(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let channels = try harness.client.call(IntakeV1.Intake.listChannels, IntakeV1.ListEntriesRequest(), options: harness.staff).entries
        #expect(channels.filter(\.builtIn).map(\.key) == ["portal", "email", "phone", "api"])
        let origins = try harness.client.call(IntakeV1.Intake.listOrigins, IntakeV1.ListEntriesRequest(), options: harness.staff).entries
        #expect(origins.filter(\.builtIn).map(\.key) == ["customer", "representative"])

        var portal = try #require(channels.first { $0.key == "portal" })
        portal.active = false
        let refused = rpcError { _ = try harness.client.call(IntakeV1.Intake.putChannel, portal, options: harness.staff) }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.violations.map { "\($0.field):\($0.reason)" } == ["active:built_in"])
        var customer = try #require(origins.first { $0.key == "customer" })
        customer.originKind = .internal
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.putOrigin, customer, options: harness.staff) }?
            .violations.map { "\($0.field):\($0.reason)" } == ["origin_kind:built_in"])
        let unchanged = try harness.client.call(IntakeV1.Intake.listChannels, IntakeV1.ListEntriesRequest(), options: harness.staff).entries
        #expect(unchanged == channels)

        // Renamed: the answer and the list say built-in, as for any other entry of the list.
        portal.active = true
        portal.labelPt = "Portal do cliente"
        portal.builtIn = false
        #expect(try harness.client.call(IntakeV1.Intake.putChannel, portal, options: harness.staff).builtIn)
        let renamed = try harness.client.call(IntakeV1.Intake.listChannels, IntakeV1.ListEntriesRequest(), options: harness.staff).entries
        #expect(renamed.first { $0.key == "portal" }?.labelPt == "Portal do cliente")
        #expect(renamed.first { $0.key == "whatsapp" }?.builtIn == false)
    }

    @Test("an open or a reply naming no channel gets the sender's: the portal for a customer, phone for staff's open, and for an integration key the built-in api channel (Integração (API)), never phone or portal; one it names is kept",
          arguments: TestEngines.all)
    func defaultChannels(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        var integration = IntakeHarness.agent("erp-key", administrator: true, permissions: ["tickets.read", "tickets.work"])
        integration.kind = .integration
        let erp = harness.options(integration)
        let api = try #require(try harness.client.call(IntakeV1.Intake.listChannels, IntakeV1.ListEntriesRequest(), options: harness.staff)
            .entries.first { $0.key == "api" })
        #expect(api.labelPt == "Integração (API)" && api.labelEn == "Integration (API)" && api.active && api.builtIn)

        var request = IntakeHarness.request(acme)
        request.contactID = maria.id
        let byIntegration = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: erp).ticket)
        #expect(byIntegration.channel == "api")
        request.subject = "Pelo telefone"
        #expect(try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.staff).ticket?.channel == "phone")
        request.subject = "Pelo portal"
        let customer = harness.options(IntakeHarness.customer(maria))
        #expect(try harness.client.call(IntakeV1.Intake.openTicket, request, options: customer).ticket?.channel == "portal")
        request.subject = "Pelo WhatsApp, via integração"
        request.channel = "whatsapp"
        #expect(try harness.client.call(IntakeV1.Intake.openTicket, request, options: erp).ticket?.channel == "whatsapp")

        var reply = IntakeV1.ReplyRequest()
        reply.ticket = byIntegration.id
        reply.text = "Retorno do ERP."
        #expect(try harness.client.call(IntakeV1.Intake.reply, reply, options: erp).message?.channel == "api")
        reply.text = "Resposta da Maria."
        #expect(try harness.client.call(IntakeV1.Intake.reply, reply, options: customer).message?.channel == "portal")

        // Built in: renamed at will, never deactivated (every integration's open would be refused).
        var off = api
        off.active = false
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.putChannel, off, options: harness.staff) }?
            .violations.map { "\($0.field):\($0.reason)" } == ["active:built_in"])
    }

    @Test("migration 33 adds the api channel last to an older database's list; an administrator's own api entry keeps its labels and place and is active again",
          arguments: TestEngines.all)
    func integrationChannelMigration(engine: DatabaseEngine) throws {
        let plain = try OlderDatabase(engine, before: 33, prefix: "intake-api-channel")
        try plain.database.write { tx in
            try tx.execute("INSERT INTO list_entries (list, key, label_pt, label_en, position) VALUES ('channel', '0800', 'Telefone 0800', '0800', 12)")
        }
        let migrated = try plain.harness()
        let channels = try migrated.client.call(IntakeV1.Intake.listChannels, IntakeV1.ListEntriesRequest(), options: migrated.staff).entries
        #expect(channels.last?.key == "api" && channels.last?.position == 13 && channels.last?.builtIn == true, "\(channels.map(\.key))")

        let own = try OlderDatabase(engine, before: 33, prefix: "intake-api-channel-own")
        try own.database.write { tx in
            try tx.execute("INSERT INTO list_entries (list, key, label_pt, label_en, active, position) VALUES ('channel', 'api', 'ERP', 'ERP', 0, 2)")
        }
        let kept = try own.harness()
        let entries = try kept.client.call(IntakeV1.Intake.listChannels, IntakeV1.ListEntriesRequest(), options: kept.staff).entries
        #expect(entries.filter { $0.key == "api" }.map { "\($0.labelPt) \($0.position) \($0.active)" } == ["ERP 2 true"], "\(entries)")
    }

    @Test("two instances on one database: a channel or a required field changed through one is applied by the other's next open (catalog cache)",
          arguments: TestEngines.all)
    func catalogCacheAcrossInstances(engine: DatabaseEngine) throws {
        let first = try IntakeHarness(engine)
        let second = try IntakeHarness(engine, databaseURL: first.environment["INTAKE_DATABASE_URL"],
                                       dataDirectory: first.directory.path, secret: first.secretText)
        let acme = try first.organization("Acme", taxID: "11222333000181")
        let maria = try first.contact(acme, "Maria", email: "maria@acme.example")
        var request = IntakeHarness.request(acme)
        request.contactID = maria.id
        request.channel = "whatsapp"
        // The second instance opens first: its catalog is now cached.
        #expect(try second.client.call(IntakeV1.Intake.openTicket, request, options: second.staff).ticket?.channel == "whatsapp")

        // The first instance turns the channel off and adds a required field.
        var entry = IntakeV1.ListEntry()
        entry.key = "whatsapp"
        entry.labelPt = "WhatsApp"
        entry.active = false
        _ = try first.client.call(IntakeV1.Intake.putChannel, entry, options: first.staff)
        var field = IntakeV1.CustomField()
        field.key = "filial"
        field.labelPt = "Filial"
        field.kind = .fieldText
        field.required = true
        field.active = true
        _ = try first.client.call(IntakeV1.Intake.putCustomField, field, options: first.staff)

        request.subject = "Depois da mudança"
        let error = rpcError { _ = try second.client.call(IntakeV1.Intake.openTicket, request, options: second.staff) }
        #expect(Set(error?.violations.map(\.field) ?? []) == ["channel", "custom_fields.filial"])
        request.channel = "phone"
        request.customFields = [{ var value = IntakeV1.CustomFieldValue(); value.key = "filial"; value.value = "01"; return value }()]
        #expect(try second.client.call(IntakeV1.Intake.openTicket, request, options: second.staff).ticket?.channel == "phone")
    }

    @Test("custom fields per product and category are validated like built-in fields", arguments: TestEngines.all)
    func customFields(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        func field(_ key: String, _ kind: IntakeV1.CustomFieldKind, product: String = "", category: CommonV1.Category = .unspecified,
                   required: Bool = false, choices: [String] = []) throws {
            var value = IntakeV1.CustomField()
            value.key = key
            value.labelPt = key
            value.kind = kind
            value.product = product
            value.category = category
            value.required = required
            value.active = true
            value.choices = choices
            _ = try harness.client.call(IntakeV1.Intake.putCustomField, value, options: harness.staff)
        }
        try field("nota", .fieldNumber, product: "ERP", required: true)
        try field("emissao", .fieldDate, product: "ERP")
        try field("uf", .fieldChoice, product: "ERP", category: .problema, choices: ["SP", "RJ"])
        try field("contingencia", .fieldBoolean)
        try field("folha", .fieldText, product: "RH", required: true)
        var filter = IntakeV1.ListCustomFieldsRequest()
        filter.product = "ERP"
        filter.category = .problema
        #expect(try harness.client.call(IntakeV1.Intake.listCustomFields, filter, options: harness.staff).fields.map(\.key).sorted()
                == ["contingencia", "emissao", "nota", "uf"])

        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        func value(_ key: String, _ text: String) -> IntakeV1.CustomFieldValue {
            var value = IntakeV1.CustomFieldValue()
            value.key = key
            value.value = text
            return value
        }
        var request = IntakeHarness.request(acme)
        request.customFields = [value("emissao", "2026-02-30"), value("uf", "MG"), value("contingencia", "sim"), value("folha", "x")]
        let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria) }
        #expect(Dictionary(uniqueKeysWithValues: (error?.violations ?? []).map { ($0.field, $0.reason) }) == [
            "custom_fields.nota": "required", "custom_fields.emissao": "not_a_date", "custom_fields.uf": "not_a_choice",
            "custom_fields.contingencia": "not_a_boolean", "custom_fields.folha": "unknown_field",
        ])
        #expect(try harness.count("tickets") == 0)
        request.customFields = [value("nota", "123.5"), value("emissao", "2024-02-29"), value("uf", "SP"), value("contingencia", "true")]
        let ticket = try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket
        #expect(ticket?.customFields.count == 4)
        #expect(try harness.events(IntakeV1.TicketOpened.self).first?.customFields["uf"] == "SP")
    }

    @Test("support-policy texts (category explanations, priority definitions, writing tips) have defaults and an administrator changes them", arguments: TestEngines.all)
    func supportPolicy(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let policy = try harness.client.call(IntakeV1.Intake.getSupportPolicy, IntakeV1.GetSupportPolicyRequest(), options: asMaria)
        #expect(policy.priorities.map(\.priority) == [.baixa, .normal, .alta, .urgente])
        #expect(!policy.writingTipsPt.isEmpty && !policy.writingTipsEn.isEmpty)
        var changed = policy
        changed.writingTipsPt = "Seja claro."
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.putSupportPolicy, changed, options: asMaria) }?.code == .permissionDenied)
        _ = try harness.client.call(IntakeV1.Intake.putSupportPolicy, changed, options: harness.staff)
        #expect(try harness.client.call(IntakeV1.Intake.getSupportPolicy, IntakeV1.GetSupportPolicyRequest(), options: asMaria).writingTipsPt == "Seja claro.")
        // Every category is explained by default; a policy put without explanations (as one
        // stored before they existed) is answered with the defaults; edited ones are kept.
        #expect(policy.categories.map(\.category) == [.problema, .duvida, .exigenciaFiscal, .necessidade, .sugestaoMelhoria, .estrategica])
        #expect(policy.categories.allSatisfy { !$0.textPt.isEmpty && !$0.textEn.isEmpty })
        var withoutExplanations = changed
        withoutExplanations.categories = []
        _ = try harness.client.call(IntakeV1.Intake.putSupportPolicy, withoutExplanations, options: harness.staff)
        #expect(try harness.client.call(IntakeV1.Intake.getSupportPolicy, IntakeV1.GetSupportPolicyRequest(), options: asMaria).categories
            == policy.categories)
        var explained = changed
        explained.categories[0].textPt = "Erro em algo que funcionava."
        _ = try harness.client.call(IntakeV1.Intake.putSupportPolicy, explained, options: harness.staff)
        let read = try harness.client.call(IntakeV1.Intake.getSupportPolicy, IntakeV1.GetSupportPolicyRequest(), options: asMaria)
        #expect(read.categories.first?.textPt == "Erro em algo que funcionava." && read.categories.count == 6)
    }

    @Test("a support policy missing a priority's definition, repeating one, with a blank or oversized text or only some categories is refused naming each field, and the stored policy stays; a blank English text takes the Portuguese",
          arguments: TestEngines.all)
    func supportPolicyRefusals(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let stored = try harness.client.call(IntakeV1.Intake.getSupportPolicy, IntakeV1.GetSupportPolicyRequest(), options: harness.staff)
        func refused(_ change: (inout IntakeV1.SupportPolicy) -> Void) -> [String] {
            var policy = stored
            change(&policy)
            let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.putSupportPolicy, policy, options: harness.staff) }
            #expect(error?.code == .invalidArgument)
            return error?.violations.map { "\($0.field) \($0.reason)" } ?? []
        }
        #expect(refused { $0.priorities.removeLast() } == ["priorities incomplete"])
        #expect(refused { $0.priorities[1] = $0.priorities[0]; $0.priorities[2].textPt = "  " }
            == ["priorities[1] duplicate", "priorities[2].text_pt required", "priorities incomplete"])
        #expect(refused { $0.priorities[0].priority = .unspecified } == ["priorities[0] unknown", "priorities incomplete"])
        #expect(refused { $0.categories.removeFirst(2) } == ["categories incomplete"])
        #expect(refused { $0.writingTipsPt = String(repeating: "a", count: 8_001); $0.categories[3].textEn = String(repeating: "b", count: 4_001) }
            == ["categories[3].text_en too_long", "writing_tips_pt too_long"])
        #expect(refused { $0.writingTipsPt = "" } == ["writing_tips_pt required"])
        #expect(try harness.client.call(IntakeV1.Intake.getSupportPolicy, IntakeV1.GetSupportPolicyRequest(), options: harness.staff) == stored)
        var english = stored
        english.priorities[3].textEn = ""
        english.writingTipsEn = " "
        let saved = try harness.client.call(IntakeV1.Intake.putSupportPolicy, english, options: harness.staff)
        #expect(saved.priorities[3].textEn == stored.priorities[3].textPt && saved.writingTipsEn == stored.writingTipsPt)
        #expect(try harness.client.call(IntakeV1.Intake.getSupportPolicy, IntakeV1.GetSupportPolicyRequest(), options: harness.staff) == saved)
    }

    @Test("GetFileLimits answers intake's file limits to any signed caller, with the inline file size never above the file limit; a forged principal is refused")
    func fileLimits() throws {
        let harness = try IntakeHarness(.sqlite, environment: [
            "INTAKE_MAX_FILE_BYTES": "5000", "INTAKE_MAX_TICKET_BYTES": "90000", "INTAKE_INLINE_CONTENT_BYTES": "8000",
            "INTAKE_OPEN_FILES_MAX_COUNT": "3", "INTAKE_OPEN_FILES_MAX_BYTES": "12000"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let asMaria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let limits = try harness.client.call(IntakeV1.Intake.getFileLimits, IntakeV1.GetFileLimitsRequest(), options: asMaria)
        #expect(limits.maxFileBytes == 5_000 && limits.maxTicketBytes == 90_000)
        #expect(limits.inlineFileBytes == 5_000, "an inline file is a file: at most INTAKE_MAX_FILE_BYTES")
        #expect(limits.inlineMaxFiles == 3 && limits.inlineMaxBytes == 12_000)
        #expect(try harness.client.call(IntakeV1.Intake.getFileLimits, IntakeV1.GetFileLimitsRequest(), options: harness.staff) == limits)
        var forged = asMaria
        forged.metadata["principal-signature"] = String(repeating: "0", count: 64)
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.getFileLimits, IntakeV1.GetFileLimitsRequest(), options: forged) }?.code
                == .unauthenticated)
    }
}
