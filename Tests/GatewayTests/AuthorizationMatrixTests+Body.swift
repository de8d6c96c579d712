import Foundation
import Testing
import TestSupport

/// A's ids carried in request bodies and query strings instead of paths: B's customers name A's
/// organization, contact, attachment or person; the level-0 agent names A's level-1 ticket in a
/// bulk action. Each must be refused and none may read or touch A's objects.
extension AuthorizationMatrixTests {
    static func bodyFindings(_ gateway: GatewayHarness, _ callers: Callers, _ o: Objects) throws -> [Finding] {
        var findings: [Finding] = []
        func refused(_ caller: String, _ method: String, _ path: String, json: Any? = nil, body: Data? = nil,
                     headers: [String: String] = [:], bearer: String) throws {
            let response = try gateway.request(method, path, json: json, body: body, headers: headers, bearer: bearer)
            let name = "\(method) \(path) (A's id in the request)"
            if (200..<300).contains(response.status) || response.status >= 500 {
                findings.append(Finding(caller: caller, route: name, status: response.status, problem: "expected a refusal", body: response.text))
            }
            if let leaked = secrets.first(where: { response.text.contains($0) }) {
                findings.append(Finding(caller: caller, route: name, status: response.status, problem: "leaks \(leaked)", body: response.text))
            }
        }
        let ticket: [String: Any] = ["subject": "Chamado da Beta", "request": "Pedido da Beta.", "category": "PROBLEMA", "priority": "ALTA",
                                     "product": "ERP", "module": "Fiscal",
                                     "details": ["system_version": "12.1.2310", "database": "SQL Server", "environment": "cloud",
                                                 "company_branch": "01/0001", "routine": "FIS001", "affected_users": "all users"]]
        func with(_ extra: [String: Any]) -> [String: Any] { ticket.merging(extra) { $1 } }
        // Opening for A, naming A's contact, or with A's file.
        try refused("B's contact", "POST", "/v1/tickets", json: with(["organization_id": o.organizationA]), bearer: callers.contactB)
        try refused("B's company administrator", "POST", "/v1/tickets", json: with(["organization_id": o.organizationB, "contact_id": o.contactA]),
                    bearer: callers.adminB)
        try refused("B's contact", "POST", "/v1/tickets", json: with(["organization_id": o.organizationB, "attachment_ids": [o.attachmentA]]),
                    bearer: callers.contactB)
        // A file uploaded onto A's ticket.
        try refused("B's contact", "POST", "/v1/attachments?file_name=x.txt&ticket_id=\(o.ticketA)", body: Data("x".utf8),
                    headers: ["Content-Type": "text/plain"], bearer: callers.contactB)
        try refused("agent below the ticket's level", "POST", "/v1/attachments?file_name=x.txt&ticket_id=\(o.ticketA)", body: Data("x".utf8),
                    headers: ["Content-Type": "text/plain"], bearer: callers.agent)
        // A's person's notification switches.
        let person = "contato.alfa%40alfa.example"
        try refused("B's contact", "GET", "/v1/subscriptions?person=\(person)", bearer: callers.contactB)
        try refused("B's contact", "POST", "/v1/subscriptions", json: ["subscription": ["person": "contato.alfa@alfa.example",
                                                                                        "event_kind": "TicketOpened", "enabled": false]],
                    bearer: callers.contactB)
        try refused("B's contact", "DELETE", "/v1/subscriptions?person=\(person)&event_kind=TicketOpened", bearer: callers.contactB)
        // An invitation that would sign in as A's contact.
        try refused("B's company administrator", "POST", "/v1/invitations",
                    json: ["email": "intruso@beta.example", "display_name": "Intruso", "contact_id": o.contactA], bearer: callers.adminB)
        // A bulk note on A's level-1 ticket by the level-0 agent: answered per ticket, none applied.
        let bulk = try gateway.request("POST", "/v1/tickets/bulk", json: ["ticket_ids": [o.ticketA], "note": ["is_public": false, "text": "intruso"]],
                                       bearer: callers.agent)
        let results = bulk.json["results"] as? [[String: Any]] ?? []
        if bulk.status >= 500 || results.contains(where: { ($0["ok"] as? Bool) == true }) || ticketSecrets.contains(where: bulk.text.contains) {
            findings.append(Finding(caller: "agent below the ticket's level", route: "POST /v1/tickets/bulk (A's ticket)", status: bulk.status,
                                    problem: "applied or leaked", body: bulk.text))
        }
        // A's file stays A's.
        try refused("B's contact", "GET", "/v1/attachments/\(o.attachmentA)", bearer: callers.contactB)
        return findings
    }
}
