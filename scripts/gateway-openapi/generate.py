#!/usr/bin/env python3
"""Writes docs/openapi.yaml: header.yaml, then the paths from the OPERATIONS table below, then
components.yaml (schemas and shared responses). Edit the table or the two YAML files, run
`scripts/gateway-openapi/generate.py && scripts/embed-openapi`; GatewayTests fails when a route
is missing from the document or answers a status the document does not declare."""
import json
import os
import subprocess
import sys
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# path, method, tag, summary, authenticated, request schema, [(status, response schema)], extra error statuses
OPERATIONS = [
 ("/healthz","get","System","Liveness: the gateway and its database answer",False,None,[("200","Ok")],["503"]),
 ("/readyz","get","System","Readiness: Health/Check of every service behind the gateway",False,None,[("200","Readiness")],["503"]),
 ("/metrics","get","System","Prometheus metrics (administrators or keys with metrics.read)",True,None,[("200","Metrics")],["403"]),
 ("/openapi.yaml","get","System","This document",False,None,[("200","OpenAPI")],[]),
 ("/v1/auth/login","post","Auth","Portal sign-in: sets the session cookie (HttpOnly, SameSite=Strict) and the CSRF cookie",False,"Credentials",[("200","Session")],["401"]),
 ("/v1/auth/tokens","post","Auth","Bearer token for the CLI and scripts",False,"Credentials",[("201","Token")],["401"]),
 ("/v1/auth/logout","post","Auth","Ends the session (cookie sessions need X-CSRF-Token)",True,None,[("204","Ended")],["403"]),
 ("/v1/me","get","Auth","The caller and the principal signed into its calls",True,None,[("200","Me")],[]),
 ("/v1/me/password","post","Auth","Changes the caller's password (ends its sessions)",True,"PasswordChange",[("204","Changed")],["403","422"]),
 ("/v1/auth/password-reset","post","Auth","Sends a reset link by e-mail (same answer for unknown addresses)",False,"ResetRequest",[("202","Accepted")],[]),
 ("/v1/auth/password-reset/confirm","post","Auth","Sets a new password with a reset token",False,"TokenPassword",[("204","Done")],["422"]),
 ("/v1/invitations","post","Users","Invites a user: customer administrators invite authorized contacts of their company",True,"Invitation",[("201","Invited")],["403","409"]),
 ("/v1/invitations/accept","post","Users","Accepts an invitation by choosing a password",False,"TokenPassword",[("204","Done")],["422"]),
 ("/v1/users","get","Users","Users (administrators: all; customer administrators: their company)",True,None,[("200","Users")],["403"]),
 ("/v1/users","post","Users","Creates a user with a password (administrators)",True,"UserCreate",[("201","User")],["403","409","422"]),
 ("/v1/users/{id}/disable","post","Users","Disables a user and ends its sessions (not your own account)",True,None,[("204","Disabled")],["403","404","422"]),
 ("/v1/api-keys","get","Integrations","Integration API keys (administrators)",True,None,[("200","ApiKeys")],["403"]),
 ("/v1/api-keys","post","Integrations","Creates an API key; the key is shown once",True,"ApiKeyCreate",[("201","ApiKeyCreated")],["403"]),
 ("/v1/api-keys/{id}","delete","Integrations","Revokes an API key",True,None,[("204","Revoked")],["403","404"]),
 ("/v1/tickets","get","Tickets","Tickets: a customer's organization's (workflow ListCustomerTickets) or an agent's queue (workflow ListQueue)",True,None,[("200","TicketList")],["SERVICE"]),
 ("/v1/tickets/{id}","get","Tickets","A ticket as the caller may see it: intake's part (request, contact, messages, attachments) and workflow's (stage, assignment, discussion, solution)",True,None,[("200","TicketView")],["SERVICE"]),
 ("/v1/attachments","post","Tickets","Uploads a file (raw body; ?file_name=, Content-Type), streamed to intake; attach it when opening or replying",True,"Binary",[("201","AttachmentRef")],["SERVICE"]),
 ("/v1/reports/metrics.csv","get","Workflow","Metrics of tickets opened in [from_ms, to_ms) as CSV (workflow-time ExportMetrics, streamed)",True,None,[("200","CSV")],["SERVICE"]),
 ("/v1/tickets/export.csv","get","Workflow","The queue as CSV (workflow ExportQueue, streamed)",True,None,[("200","CSV")],["SERVICE"]),
 ("/v1/attachments/{id}","get","Tickets","Downloads an attachment the caller may see",True,None,[("200","Binary")],["SERVICE"]),
 ("/v1/mail-quarantine/{id}/raw","get","Intake","A quarantined e-mail's raw message, byte-exact (intake DownloadQuarantinedMail; agents with tickets.work and administrators)",True,None,[("200","RawMail")],["SERVICE"]),
]

# Statuses any call to a service may produce (mapped from RPC codes).
SERVICE_ERRORS = ["400", "403", "404", "409", "422", "501", "503"]


def main():
    out = []
    w = out.append
    w(open(os.path.join(HERE, "header.yaml")).read().rstrip("\n"))
    by_path = OrderedDict()
    for op in operations():
        by_path.setdefault(op[0], []).append(op)
    for path, items in by_path.items():
        w(f"  {path}:")
        if "{" in path:
            w("    parameters:")
            for name in [p[1:-1] for p in path.split("/") if p.startswith("{")]:
                w(f"      - name: {name}\n        in: path\n        required: true\n        schema:\n          type: string")
        for (p, m, tag, summary, auth, req, ok, errs) in items:
            opid = m + "_" + p.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace("-", "_").replace(".", "_")
            w(f"    {m}:")
            w(f"      operationId: {opid}")
            w(f"      tags: [{tag}]")
            w(f"      summary: {json.dumps(summary, ensure_ascii=False)}")
            if not auth:
                w("      security: []")
            params = []
            if m == "post":
                params.append("      parameters:\n        - $ref: '#/components/parameters/IdempotencyKey'")
            for q in QUERY.get((m, p), []):
                if not params:
                    params.append("      parameters:")
                doc = QUERY_DOCS.get((m, p), {}).get(q)
                described = f"\n          description: {json.dumps(doc, ensure_ascii=False)}" if doc else ""
                params.append(f"        - name: {q}\n          in: query\n          required: false{described}\n          schema:\n            type: string")
            out.extend(params)
            if req == "Binary":
                w("      requestBody:\n        required: true\n        content:\n          application/octet-stream:\n            schema:\n              type: string\n              contentMediaType: application/octet-stream")
            elif req and req.startswith("Proto:"):
                w(f"      requestBody:\n        required: true\n        content:\n          application/json:\n            schema:\n              type: object\n              description: '{req[6:]} as JSON'")
            elif req:
                w(f"      requestBody:\n        required: true\n        content:\n          application/json:\n            schema:\n              $ref: '#/components/schemas/{req}'")
            w("      responses:")
            for code, schema in ok:
                if code == "204":
                    w(f"        '{code}':\n          description: Done")
                elif schema == "Metrics":
                    w(f"        '{code}':\n          description: Prometheus text format\n          content:\n            text/plain:\n              schema:\n                type: string")
                elif schema == "OpenAPI":
                    w(f"        '{code}':\n          description: This document\n          content:\n            application/yaml:\n              schema:\n                type: object\n                description: The OpenAPI 3.1 document (a YAML mapping)")
                elif schema == "CSV":
                    w(f"        '{code}':\n          description: CSV file\n          content:\n            text/csv:\n              schema:\n                type: string")
                elif schema == "Binary":
                    w(f"        '{code}':\n          description: The file\n          content:\n            application/octet-stream:\n              schema:\n                type: string\n                contentMediaType: application/octet-stream")
                elif schema == "RawMail":
                    w(f"        '{code}':\n          description: The message as received (RFC 5322)\n          content:\n            message/rfc822:\n              schema:\n                type: string\n                contentMediaType: message/rfc822")
                elif schema.startswith("Proto:"):
                    w(f"        '{code}':\n          description: {schema[6:]}\n          content:\n            application/json:\n              schema:\n                type: object\n                description: '{schema[6:]} as JSON'")
                elif schema == "HTML":
                    w(f"        '{code}':\n          description: A page\n          content:\n            text/html:\n              schema:\n                type: string")
                else:
                    w(f"        '{code}':\n          description: {schema}\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/{schema}'")
            codes = set(errs) | {"429", "500"}
            if errs == ["SERVICE"]:
                codes = set(SERVICE_ERRORS) | {"429", "500"}
            if auth:
                codes |= {"401"}
            if m in ("post", "put", "patch"):
                codes |= {"400", "413"}
            for c in sorted(codes):
                w(f"        '{c}':\n          $ref: '#/components/responses/E{c}'")
    w(open(os.path.join(HERE, "components.yaml")).read().rstrip("\n"))
    with open(os.path.join(ROOT, "docs", "openapi.yaml"), "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote docs/openapi.yaml")


QUERY = {
    ("get", "/v1/tickets"): ["stage", "text", "product", "module", "priority", "category", "group_id", "agent_id", "page_size", "cursor", "newest_first"],
    ("get", "/v1/tickets/{id}"): ["from_queue"],
    ("post", "/v1/attachments"): ["file_name", "ticket_id"],
    ("get", "/v1/reports/metrics.csv"): ["from_ms", "to_ms", "group", "product", "agent"],
    ("get", "/v1/tickets/export.csv"): ["stage", "group_id", "agent_id"],
}

# Descriptions of query parameters, where the name alone does not say enough.
QUERY_DOCS = {
    ("get", "/v1/reports/metrics"): {
        "from_day": "First day included, YYYY-MM-DD (local days of the business calendar)",
        "to_day": "First day excluded, YYYY-MM-DD",
        "group": "Only tickets of this group (id; GET /v1/groups). With any filter the report covers the tickets opened in the period that match, as they stand now (their current group, product, holder); without, events by the day they happened. Up to 200 bytes (UTF-8), no control characters, else 400 with details[].field = group",
        "product": "Only tickets of this product (name, as in the tickets and by_product). Same rules as group; 400 names product",
        "agent": "Only tickets held by this agent (id; GET /v1/agents). Same rules as group; 400 names agent",
    },
    ("get", "/v1/reports/metrics.csv"): {
        "group": "Only tickets of this group (id), as in /v1/reports/metrics; 400 names group when invalid",
        "product": "Only tickets of this product (name); 400 names product when invalid",
        "agent": "Only tickets held by this agent (id); 400 names agent when invalid",
    },
}


def routes_from_gateway():
    """The routes the gateway serves, from `gateway routes` (build first: swift build --product gateway)."""
    binary = os.environ.get("GATEWAY_BIN", os.path.join(ROOT, ".build", "debug", "gateway"))
    return json.loads(subprocess.check_output([binary, "routes"]))


def operations():
    manual = {(op[1], op[0]): op for op in OPERATIONS}
    ops = []
    for route in routes_from_gateway():
        method, template = route["method"].lower(), route["template"]
        if template.startswith("/portal") or template == "/" or template.startswith("/assets"):
            continue
        if (method, template) in manual:
            ops.append(manual.pop((method, template)))
            continue
        if "rpc" not in route:
            sys.exit(f"{method.upper()} {template}: no entry in OPERATIONS and not an RPC binding")
        service, rpc = route["service"], route["rpc"]
        summary = f"{service} `{rpc.rsplit('/', 1)[-1]}`: request `{route['request_type']}`, answer `{route['response_type']}` (as JSON, .proto field names)"
        request = ("Proto:" + route["request_type"]) if route["reads_body"] else None
        ops.append((template, method, service.capitalize(), summary, route["authenticated"], request,
                    [(str(route["status"]), "Proto:" + route["response_type"])], ["SERVICE"]))
        if route["query"]:
            QUERY[(method, template)] = route["query"]
    if manual:
        sys.exit(f"OPERATIONS without a route: {sorted(manual)}")
    return ops

if __name__ == "__main__":
    main()
