#!/usr/bin/python3
"""The administrators' notifications page (#/notificacoes) in headless Chromium, in two phases.

setup: an agent gets no link and no page; the administrator sees the rules, registers a webhook
for "Ocorrência aberta" of Problema tickets of product "erp" (a filter) at RECEIVER_URL (an ftp address and then no events are refused first,
each error shown next to the form, naming the field by its label and marking it) and gets its generated secret once; edits the pt-BR subject of
the TicketOpened template (placeholders listed), then a subject naming an unknown placeholder is
refused with the service's reason; switches SLA warnings off for Ana, switches every kind off for
her and deletes that entry; lifts a suppressed address and queues the dead deliveries again.
Then who hears of each event: SLA breaches go to the customer and the chefe instead of the
holder, only for Urgente tickets (ticked, filtered and saved; the row shows the filter), a stage change's holder is saved and reset to the default; a group's
mailbox with an invalid address is refused (the reason next to the form, nothing listed), then
saved; the edits are listed. Last, the webhook's secret is rotated: a new one is shown once.
Prints "OK <new secret>".

deliveries: after a ticket was opened, the webhook's last delivery and its list of deliveries show
it delivered; the log counts it. Prints "OK".

edit: the webhook registered at RECEIVER_URL is edited with Editar: its form comes filled in; an
ftp address is refused in the form (the field named by its label and marked), nothing changed;
then it is moved to NEW_URL (the fifth argument), with SLA warnings besides openings and only
Problema tickets, and the row shows it. Prints "OK".

subscription: a support lead sets PERSON's (the fourth argument) switch for "Ocorrência aberta"
to Sim only for Urgente tickets; the row lists it with its filter. Editar brings the entry into
the form (title, person, kind, switch and filter filled in); products typed with a semicolon
("ERP; Fiscal") are refused in the form in Portuguese, the field named by its label and marked,
the stored filter unchanged; then saved as Problema tickets of products ERP or Fiscal: the same
row (one per person and kind) shows the new filter. Prints "OK".

Usage: notifications_page.py BASE_URL SCREENSHOT_DIR PHASE RECEIVER_URL|PERSON SUPPRESSED_ADDRESS|NEW_URL|-
(credentials in PORTAL_ADMIN / PORTAL_AGENT as email:password)."""
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, phase, receiver, suppressed = sys.argv[1:6]
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)

GOOD_SUBJECT = "[{{code}}] Recebemos seu pedido: {{subject}}"

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out, text = portal.sign_in, portal.sign_out, portal.text


def webhook_row(url=None):
    found = [r for r in driver.find_elements(By.CSS_SELECTOR, "#notify-webhooks tbody tr[data-webhook]")
             if r.find_element(By.CLASS_NAME, "notify-url").text == (url or receiver)]
    return found[0] if found else None


def invalid(element_id):
    """Whether the refused form marked the field (aria-invalid)."""
    return driver.find_element(By.ID, element_id).get_attribute("aria-invalid") == "true"


def scroll_to(element_id):
    driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", element_id)


def open_page():
    wait.until(EC.element_to_be_clickable((By.ID, "nav-notifications"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "notify-webhook-form")))
    # The template form loads its template after the page is drawn.
    wait.until(lambda d: d.find_element(By.ID, "notify-template-subject").get_attribute("value") != "")


def submit_webhook(url, events, categories=(), products=""):
    field = driver.find_element(By.ID, "notify-webhook-url")
    field.clear()
    field.send_keys(url)
    for box in driver.find_elements(By.CSS_SELECTOR, "input[name=event_kinds]"):
        if box.is_selected() != (box.get_attribute("value") in events):
            box.click()
    # Only for some tickets: categories ticked, products typed.
    for box in driver.find_elements(By.CSS_SELECTOR, "#notify-webhook-filter input[name=categories]"):
        if box.is_selected() != (box.get_attribute("value") in categories):
            box.click()
    field = driver.find_element(By.ID, "notify-webhook-filter-products")
    field.clear()
    field.send_keys(products)
    driver.find_element(By.ID, "notify-webhook-submit").click()


def set_subject(subject):
    field = driver.find_element(By.ID, "notify-template-subject")
    field.clear()
    field.send_keys(subject)
    driver.find_element(By.ID, "notify-template-submit").click()


def setup():
    sign_in(*agent)
    assert not driver.find_elements(By.ID, "nav-notifications"), "agents get no link"
    driver.get(base + "/portal/#/notificacoes")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "notify-webhook-form"), "agents do not get the page"
    sign_out()

    sign_in(*admin)
    open_page()
    assert driver.find_elements(By.ID, "notify-webhooks-empty"), "no webhooks yet"
    # The service's rules: the customer hears of an opened ticket, holder and chefe of SLA breaches.
    ticked = {r.get_attribute("data-kind"): [b.get_attribute("value") for b in r.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
                                             if b.is_selected()]
              for r in driver.find_elements(By.CSS_SELECTOR, "#notify-rules tbody tr")}
    assert ticked["TicketOpened"] == ["customer"] and ticked["SLABreached"] == ["holder", "chefe"], ticked
    assert ticked["StageChanged"] == [], ticked

    # Refused: an address that is not http(s), then no events; nothing is listed.
    submit_webhook(receiver.replace("http://", "ftp://"), [])
    # Each refusal names the field by its label (no API field name) and marks it invalid.
    wait.until(lambda d: "Endereço (URL):" in text("notify-webhook-status"))
    assert "url:" not in text("notify-webhook-status"), text("notify-webhook-status")
    assert invalid("notify-webhook-url") and not invalid("notify-event-TicketOpened")
    submit_webhook(receiver, [])
    wait.until(lambda d: "Eventos:" in text("notify-webhook-status"))
    assert "Informe os tipos de evento" in text("notify-webhook-status"), text("notify-webhook-status")
    assert "event_kinds" not in text("notify-webhook-status"), text("notify-webhook-status")
    assert invalid("notify-event-TicketOpened") and not invalid("notify-webhook-url")
    assert driver.find_elements(By.ID, "notify-webhooks-empty"), "a refused webhook is not listed"
    # Registered for opened Problema tickets of product "erp" (the test's ticket is one: PROBLEMA,
    # "ERP"), with no secret given: the service's secret is shown once.
    submit_webhook(receiver, ["TicketOpened"], categories=["PROBLEMA"], products=" erp ")
    wait.until(EC.presence_of_element_located((By.ID, "notify-new-secret")))
    secret = driver.find_element(By.ID, "notify-new-secret").get_attribute("value")
    assert len(secret) >= 32, secret
    row = webhook_row()
    assert row is not None and "Ocorrência aberta" in row.text and "(nenhum)" in row.text, row and row.text
    assert row.find_element(By.CLASS_NAME, "notify-filter-text").text == "Categorias: Problema · Produtos: erp", row.text
    assert secret not in driver.find_element(By.ID, "notify-webhooks").text, "the secret is not in the list"
    shot("45-admin-notifications-webhook")

    # The TicketOpened template in Portuguese: its placeholders listed, a new subject saved.
    Select(driver.find_element(By.ID, "notify-template-kind")).select_by_value("TicketOpened")
    Select(driver.find_element(By.ID, "notify-template-locale")).select_by_value("pt-BR")
    wait.until(lambda d: "Ocorrência registrada" in d.find_element(By.ID, "notify-template-subject").get_attribute("value"))
    placeholders = text("notify-placeholders")
    assert "{{subject}}" in placeholders and "{{contact_name}}" in placeholders and "{{link}}" not in placeholders, placeholders
    set_subject(GOOD_SUBJECT)
    wait.until(lambda d: "Modelo TicketOpened (pt-BR) salvo" in text("notify-template-status"))
    assert text("notify-template-origin") == "Personalizado por um administrador."
    # A subject naming a placeholder the kind does not fill is refused, with the reason.
    set_subject("[{{code}}] Recebemos: {{assunto}}")
    wait.until(lambda d: "Assunto:" in text("notify-template-status"))
    assert "message_template" not in text("notify-template-status") and invalid("notify-template-subject"), text("notify-template-status")
    assert "{{assunto}}" in text("notify-template-status"), text("notify-template-status")
    scroll_to("notify-templates-title")
    shot("46-admin-notifications-template-refused")

    # Subscriptions: Ana stops receiving SLA warnings; an entry for every kind is made and deleted.
    def set_switch(kind, enabled):
        person = driver.find_element(By.ID, "notify-rule-person")
        person.clear()
        person.send_keys(agent[0])
        Select(driver.find_element(By.ID, "notify-rule-kind")).select_by_value(kind)
        Select(driver.find_element(By.ID, "notify-rule-enabled")).select_by_value(enabled)
        driver.find_element(By.ID, "notify-rule-submit").click()

    def switch_row(kind):
        found = driver.find_elements(By.CSS_SELECTOR, f"#notify-subscriptions tbody tr[data-kind='{kind}']")
        return found[0] if found else None

    set_switch("SLAWarning", "false")
    wait.until(lambda d: "Registro salvo" in text("notify-status") and switch_row("SLAWarning") is not None)
    assert switch_row("SLAWarning").find_element(By.CLASS_NAME, "notify-receives").text == "Não"
    assert "pessoa=ana" in driver.current_url, driver.current_url
    set_switch("*", "false")
    wait.until(lambda d: switch_row("*") is not None)
    switch_row("*").find_element(By.CLASS_NAME, "notify-remove-switch").click()
    wait.until(lambda d: "Registro excluído" in text("notify-status") and switch_row("*") is None)
    assert switch_row("SLAWarning") is not None

    # The log: the suppressed address lifted, the dead deliveries (none) queued again.
    assert driver.find_elements(By.CSS_SELECTOR, f"#notify-suppressions tr[data-address='{suppressed}']"), "suppression listed"
    driver.find_element(By.CSS_SELECTOR, f"#notify-suppressions tr[data-address='{suppressed}'] .notify-lift").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: "saiu da lista" in text("notify-status"))
    assert not driver.find_elements(By.CSS_SELECTOR, f"#notify-suppressions tr[data-address='{suppressed}']")
    driver.find_element(By.ID, "notify-retry-dead").click()
    wait.until(lambda d: "0 envio(s) reenfileirado(s)" in text("notify-status"))

    rules_and_mailboxes()
    rotated = rotate_secret(secret)
    print("OK", rotated, flush=True)


def rule_row(kind):
    return driver.find_element(By.CSS_SELECTOR, f"#notify-rules tbody tr[data-kind='{kind}']")


def set_audiences(kind, audiences):
    for audience in ("customer", "holder", "chefe", "copies"):
        box = driver.find_element(By.ID, f"notify-audience-{kind}-{audience}")
        if box.is_selected() != (audience in audiences):
            box.click()
    driver.find_element(By.ID, f"notify-rule-save-{kind}").click()


def rules_and_mailboxes():
    # Who hears of each event: the defaults, ticked (holder and chefe of an SLA breach).
    scroll_to("notify-rules-title")
    assert rule_row("SLABreached").get_attribute("data-customized") == "false"
    assert driver.find_element(By.ID, "notify-audience-SLABreached-holder").is_selected()
    assert not driver.find_element(By.ID, "notify-audience-SLABreached-customer").is_selected()
    assert driver.find_element(By.ID, "notify-audience-TicketOpened-customer").is_selected()
    assert not driver.find_elements(By.ID, "notify-rule-reset-SLABreached"), "nothing to reset yet"
    # SLA breaches: the customer and the chefe, no longer the holder, only for Urgente tickets
    # (the filter's fields open from the row; every ticket until now).
    assert rule_row("SLABreached").find_element(By.CLASS_NAME, "notify-filter-text").text == "Todas as ocorrências"
    rule_row("SLABreached").find_element(By.CSS_SELECTOR, "details.notify-rule-filter > summary").click()
    wait.until(EC.element_to_be_clickable((By.ID, "notify-filter-SLABreached-priorities-URGENTE"))).click()
    set_audiences("SLABreached", ["customer", "chefe"])
    wait.until(lambda d: "Público de SLA estourado salvo" in text("notify-status"))
    wait.until(lambda d: rule_row("SLABreached").get_attribute("data-customized") == "true")
    origin = rule_row("SLABreached").find_element(By.CLASS_NAME, "notify-rule-origin").text
    assert "Alterado por" in origin and "Padrão: responsável" in origin, origin
    assert driver.find_element(By.ID, "notify-audience-SLABreached-customer").is_selected()
    assert not driver.find_element(By.ID, "notify-audience-SLABreached-holder").is_selected()
    assert rule_row("SLABreached").find_element(By.CLASS_NAME, "notify-filter-text").text == "Prioridades: Urgente"
    assert rule_row("TicketOpened").find_element(By.CLASS_NAME, "notify-filter-text").text == "Todas as ocorrências"
    # A stage change's holder, saved then reset to the default (nobody) after a confirmation.
    set_audiences("StageChanged", ["holder"])
    wait.until(lambda d: rule_row("StageChanged").get_attribute("data-customized") == "true")
    scroll_to("notify-rules-title")
    shot("70-admin-notifications-rules-edited")
    driver.find_element(By.ID, "notify-rule-reset-StageChanged").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: "restaurado" in text("notify-status") and rule_row("StageChanged").get_attribute("data-customized") == "false")
    assert not driver.find_element(By.ID, "notify-audience-StageChanged-holder").is_selected()

    # One more rule for a solution: the chefe and a fixed address, only for Urgente tickets (an
    # invalid address refused first, with its reason, nothing stored); the kind keeps the
    # customer's default rule, and lists both; the customer's is then removed.
    def add_rule(kind, audiences, addresses):
        scroll_to("notify-new-rule-title")
        Select(driver.find_element(By.ID, "notify-new-rule-kind")).select_by_value(kind)
        for audience in ("customer", "holder", "chefe", "copies"):
            box = driver.find_element(By.ID, f"notify-new-rule-{audience}")
            if box.is_selected() != (audience in audiences):
                box.click()
        field = driver.find_element(By.ID, "notify-new-rule-addresses")
        field.clear()
        field.send_keys(addresses)
        urgent = driver.find_element(By.ID, "notify-new-rule-filter-priorities-URGENTE")
        if not urgent.is_selected():
            urgent.click()
        driver.find_element(By.ID, "notify-new-rule-submit").click()

    add_rule("SolutionGiven", ["chefe"], "fiscal@suporte.example, fiscal@@suporte")
    wait.until(lambda d: "Endereço de e-mail inválido: fiscal@@suporte" in text("notify-audience-status"))
    assert rule_row("SolutionGiven").get_attribute("data-customized") == "false"
    add_rule("SolutionGiven", ["chefe"], "fiscal@suporte.example")
    wait.until(lambda d: "Regra acrescentada a Solução dada" in text("notify-status"))
    row = rule_row("SolutionGiven")
    assert row.get_attribute("data-customized") == "true" and row.get_attribute("data-rules") == "2", row.get_attribute("outerHTML")
    entries = [e.text for e in row.find_elements(By.CLASS_NAME, "notify-rule-entry")]
    assert entries[0].startswith("cliente — Todas as ocorrências"), entries
    assert entries[1].startswith("chefe, fiscal@suporte.example — Prioridades: Urgente"), entries
    scroll_to("notify-rules-title")
    shot("70b-admin-notifications-several-rules")
    row.find_elements(By.CLASS_NAME, "notify-rule-entry-remove")[0].click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: "Regra removida de Solução dada" in text("notify-status"))
    entries = [e.text for e in rule_row("SolutionGiven").find_elements(By.CLASS_NAME, "notify-rule-entry")]
    assert len(entries) == 1 and entries[0].startswith("chefe, fiscal@suporte.example"), entries

    # A group's mailbox: an invalid address refused next to the form, nothing listed; then saved.
    def save_mailbox(group, address):
        field = driver.find_element(By.ID, "notify-mailbox-group")
        field.clear()
        field.send_keys(group)
        field = driver.find_element(By.ID, "notify-mailbox-address")
        field.clear()
        field.send_keys(address)
        driver.find_element(By.ID, "notify-mailbox-submit").click()

    assert driver.find_elements(By.ID, "notify-mailboxes-empty"), "no mailboxes yet"
    save_mailbox("grp-n1", "fila-n1@@suporte")
    wait.until(lambda d: "Endereço:" in text("notify-mailbox-status"))
    assert "address:" not in text("notify-mailbox-status") and invalid("notify-mailbox-address"), text("notify-mailbox-status")
    assert "Endereço de e-mail inválido" in text("notify-mailbox-status"), text("notify-mailbox-status")
    assert driver.find_elements(By.ID, "notify-mailboxes-empty"), "a refused mailbox is not listed"
    scroll_to("notify-mailboxes-title")
    shot("71-admin-notifications-mailbox-refused")
    save_mailbox("grp-n1", "fila-n1@suporte.example")
    wait.until(lambda d: "Caixa de grp-n1 salva" in text("notify-status"))
    row = driver.find_element(By.CSS_SELECTOR, "#notify-mailboxes tr[data-group='grp-n1']")
    assert row.find_element(By.CLASS_NAME, "notify-mailbox-address").text == "fila-n1@suporte.example"
    assert "administrador" in row.find_element(By.CLASS_NAME, "notify-mailbox-source").text
    # The edits, newest first.
    changes = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#notify-changes tbody tr")]
    assert len(changes) == 6 and "caixa do grupo grp-n1" in changes[0] and "regra removida de Solução dada" in changes[1] \
        and "SLA estourado" in changes[5], changes
    scroll_to("notify-mailboxes-title")
    shot("72-admin-notifications-mailbox-saved")


def rotate_secret(first):
    # A new secret for the webhook, shown once; then revoked at once for another: only the last signs.
    scroll_to("notify-webhooks-title")
    webhook_row().find_element(By.CLASS_NAME, "notify-rotate").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: "Novo segredo do webhook" in text("notify-status"))
    rotated = driver.find_element(By.ID, "notify-new-secret").get_attribute("value")
    assert len(rotated) >= 32 and rotated != first, (first, rotated)
    assert rotated not in driver.find_element(By.ID, "notify-webhooks").text, "the secret is not in the list"
    # The first secret keeps signing beside the new one for 24 hours: the row says until when.
    assert "o segredo anterior assina junto até" in webhook_row().text, webhook_row().text
    shot("73-admin-notifications-secret-rotated")
    # Revoked at once (a leaked secret): another new one, and the one before it stops signing.
    webhook_row().find_element(By.CLASS_NAME, "notify-revoke").click()
    wait.until(EC.alert_is_present())
    assert "revogar o atual na hora" in driver.switch_to.alert.text
    driver.switch_to.alert.accept()
    wait.until(lambda d: d.find_elements(By.ID, "notify-new-secret")
               and d.find_element(By.ID, "notify-new-secret").get_attribute("value") not in ("", rotated))
    rotated = driver.find_element(By.ID, "notify-new-secret").get_attribute("value")
    assert len(rotated) >= 32 and rotated != first, (first, rotated)
    assert not webhook_row().find_elements(By.CLASS_NAME, "notify-previous-secret"), webhook_row().text
    # Drawn again (another page and back), the secret is gone.
    driver.get(base + "/portal/#/")
    open_page()
    assert not driver.find_elements(By.ID, "notify-new-secret"), "shown only once"
    return rotated


def deliveries():
    sign_in(*admin)
    open_page()
    wait.until(lambda d: webhook_row() is not None)
    last = webhook_row().find_element(By.CLASS_NAME, "notify-last")
    assert "entregue" in last.text, last.text
    webhook_row().find_element(By.CLASS_NAME, "notify-show-deliveries").click()
    listed = [r for r in driver.find_elements(By.CSS_SELECTOR, ".notify-deliveries tbody tr[data-delivery]") if r.is_displayed()]
    assert len(listed) == 1 and "Ocorrência aberta" in listed[0].text and "entregue" in listed[0].text, [r.text for r in listed]
    assert not listed[0].find_elements(By.CLASS_NAME, "notify-replay"), "a delivered one is not sent again from here"
    shot("47-admin-notifications-deliveries")
    sent = driver.find_element(By.CSS_SELECTOR, "#notify-stats [data-state=sent] strong").text
    assert int(sent) >= 2, sent  # the webhook and the customer's e-mail
    scroll_to("notify-log-title")
    shot("48-admin-notifications-log")
    print("OK", flush=True)


def edit():
    new_url = suppressed  # this phase's fifth argument
    sign_in(*admin)
    open_page()
    scroll_to("notify-webhooks-title")
    webhook_row().find_element(By.CLASS_NAME, "notify-edit").click()
    form = wait.until(EC.presence_of_element_located((By.ID, "notify-edit-0")))
    # Filled in with what the webhook has.
    url = driver.find_element(By.ID, "notify-edit-url-0")
    assert url.get_attribute("value") == receiver, url.get_attribute("value")
    assert driver.find_element(By.ID, "notify-edit-event-0-TicketOpened").is_selected()
    assert not driver.find_element(By.ID, "notify-edit-event-0-SLAWarning").is_selected()
    assert driver.find_element(By.ID, "notify-edit-level-0").get_attribute("value") == "0"
    # Refused in the form: an address that is not http(s); nothing changed.
    url.clear()
    url.send_keys(receiver.replace("http://", "ftp://"))
    driver.find_element(By.ID, "notify-edit-submit-0").click()
    wait.until(lambda d: "Endereço (URL):" in text("notify-edit-status-0"))
    assert "url:" not in text("notify-edit-status-0") and invalid("notify-edit-url-0"), text("notify-edit-status-0")
    assert webhook_row() is not None, "still at the old address"
    # Moved to the new receiver, SLA warnings too, only Problema tickets.
    url = driver.find_element(By.ID, "notify-edit-url-0")
    url.clear()
    url.send_keys(new_url)
    driver.find_element(By.ID, "notify-edit-event-0-SLAWarning").click()
    driver.find_element(By.ID, "notify-edit-filter-0-categories-PROBLEMA").click()
    scroll_to("notify-edit-0")
    shot("73b-admin-notifications-webhook-edit")
    driver.find_element(By.ID, "notify-edit-submit-0").click()
    wait.until(lambda d: f"Webhook {new_url} alterado" in text("notify-status"))
    assert webhook_row() is None, "no webhook at the old address"
    row = webhook_row(new_url)
    assert row is not None and "Ocorrência aberta, Alerta de SLA" in row.text, row and row.text
    assert row.find_element(By.CLASS_NAME, "notify-filter-text").text == "Categorias: Problema", row.text
    assert not driver.find_elements(By.ID, "notify-edit-0"), "the form closes with the page drawn again"
    print("OK", flush=True)


def subscription():
    person = receiver  # this phase's fourth argument
    sign_in(*admin)
    open_page()
    scroll_to("notify-subscriptions-title")

    def row():
        found = driver.find_elements(By.CSS_SELECTOR, "#notify-subscriptions tbody tr[data-kind='TicketOpened']")
        return found[0] if found else None

    def filter_text():
        return row().find_element(By.CLASS_NAME, "notify-filter-text").text

    # Sim for opened tickets, only Urgente ones.
    driver.find_element(By.ID, "notify-rule-person").clear()
    driver.find_element(By.ID, "notify-rule-person").send_keys(person)
    Select(driver.find_element(By.ID, "notify-rule-kind")).select_by_value("TicketOpened")
    Select(driver.find_element(By.ID, "notify-rule-enabled")).select_by_value("true")
    driver.find_element(By.ID, "notify-switch-filter-priorities-URGENTE").click()
    driver.find_element(By.ID, "notify-rule-submit").click()
    wait.until(lambda d: "Registro salvo" in text("notify-status") and row() is not None)
    assert row().get_attribute("data-person") == person and row().find_element(By.CLASS_NAME, "notify-receives").text == "Sim", row().text
    assert filter_text() == "Prioridades: Urgente", row().text
    assert driver.find_element(By.ID, "notify-rule-title").text == "Novo registro"

    # Editar: the entry in the form, its title saying which one.
    row().find_element(By.CLASS_NAME, "notify-edit-switch").click()
    wait.until(lambda d: text("notify-rule-title") == "Alterar o registro Ocorrência aberta de " + person)
    assert driver.find_element(By.ID, "notify-rule-person").get_attribute("value") == person
    assert Select(driver.find_element(By.ID, "notify-rule-kind")).first_selected_option.get_attribute("value") == "TicketOpened"
    assert Select(driver.find_element(By.ID, "notify-rule-enabled")).first_selected_option.get_attribute("value") == "true"
    assert driver.find_element(By.ID, "notify-switch-filter-priorities-URGENTE").is_selected()
    assert not driver.find_element(By.ID, "notify-switch-filter-categories-PROBLEMA").is_selected()
    assert driver.switch_to.active_element.get_attribute("id") == "notify-switch-filter-categories-PROBLEMA", "the filter is where the focus goes"

    # Problema tickets of ERP or Fiscal instead, the products first separated by a semicolon:
    # refused, in Portuguese, naming the field by its label; nothing changed.
    driver.find_element(By.ID, "notify-switch-filter-priorities-URGENTE").click()
    driver.find_element(By.ID, "notify-switch-filter-categories-PROBLEMA").click()
    products = driver.find_element(By.ID, "notify-switch-filter-products")
    products.send_keys("ERP; Fiscal")
    driver.find_element(By.ID, "notify-rule-submit").click()
    wait.until(lambda d: "Produtos:" in text("notify-rule-status"))
    status = text("notify-rule-status")
    assert "sem vírgula nem ponto e vírgula" in status and "products" not in status and "subscription" not in status, status
    assert invalid("notify-switch-filter-products") and not invalid("notify-rule-person"), status
    assert filter_text() == "Prioridades: Urgente", row().text
    assert products.get_attribute("value") == "ERP; Fiscal", "what was typed is kept"
    driver.execute_script("document.getElementById('notify-rule-title').scrollIntoView()")
    shot("73c-admin-notifications-subscription-filter-refused")

    products.clear()
    products.send_keys("ERP, Fiscal")
    driver.find_element(By.ID, "notify-rule-submit").click()
    wait.until(lambda d: "Registro salvo" in text("notify-status") and row() is not None and "Problema" in filter_text())
    assert filter_text() == "Categorias: Problema · Produtos: ERP, Fiscal", row().text
    assert row().find_element(By.CLASS_NAME, "notify-receives").text == "Sim", row().text
    assert len(driver.find_elements(By.CSS_SELECTOR, "#notify-subscriptions tbody tr")) == 1, "the entry replaced, not another one"
    assert driver.find_element(By.ID, "notify-rule-title").text == "Novo registro"
    scroll_to("notify-subscriptions-title")
    shot("73d-admin-notifications-subscription-filter-edited")
    print("OK", flush=True)


try:
    {"setup": setup, "deliveries": deliveries, "edit": edit, "subscription": subscription}[phase]()
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
