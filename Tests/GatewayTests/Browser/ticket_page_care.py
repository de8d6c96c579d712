#!/usr/bin/python3
"""What a helpdesk's people met on the ticket pages, pinned in headless Chromium.
Ana (agent): the ticket's SLA targets are on its page; the related tickets show no stray "null";
taking the ticket says "Salvo." on the page drawn again; the move form asks for the note or text a
move needs (required, its label saying "(obrigatória)" / "(obrigatório)"), and a blank one is refused naming the field by its label ("Texto para o
cliente", marked invalid), not "public_note"; her badge names the stage
("Aguardando cliente"), not the customer's wording; a note typed in the discussion survives the
page drawn again after another action; the printed ticket leaves the actions out.
Maria (customer), on a phone-sized window, follows a link to her ticket signed out and lands on
it after signing in; no page is wider than the screen; a pasted screenshot is named after her clock;
her reply says "Salvo." and keeps its lines; cancelling another ticket shows it cancelled at once, with no reply or cancel form
left; a new ticket's product is required by the form; what she typed comes back after leaving
the form and pressing Back; on a slow network the form says it is sending; her session ends while she writes: a sign-in dialog over the page,
and after it the ticket is sent with what she had typed; when only a page was being read, it is
drawn after the sign-in.
Ana again: the unread customer message is counted with "Marcar como lidas", after which she
finishes the ticket (workflow refuses while a message is unread).
Ana, her page of another ticket open while Bruno takes it: her "Assumir" is refused and the page
is drawn again as the ticket is now (Bruno holds it), with the refusal written as a sentence; once
Bruno puts it back in the group's queue, her repasse from that page (which showed Bruno holding it)
is refused as made from a page out of date, and the page drawn again says so. She takes it again;
Bruno, her chefe, takes it from her: her public answer is refused saying he took it and when, the
page drawn again with her text kept.
Usage: ticket_page_care.py BASE_URL SCREENSHOT_DIR TICKET_ID CANCEL_TICKET_ID CONTESTED_TICKET_ID
(credentials in PORTAL_AGENT / PORTAL_CUSTOMER as email:password, Bruno's bearer token in
PORTAL_OTHER_AGENT_TOKEN). Prints "OK <id of the ticket opened after the session ended>"."""
import os
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, ticket, cancelled, contested = sys.argv[1:6]
ana = os.environ["PORTAL_AGENT"].split(":", 1)
maria = os.environ["PORTAL_CUSTOMER"].split(":", 1)

portal = Portal(base, shots)
driver, wait = portal.driver, portal.wait


def open_ticket(ticket_id, ready="ticket-facts"):
    portal.open_ticket(ticket_id)
    wait.until(lambda d: d.find_elements(By.ID, ready))


def stage():
    return driver.find_element(By.ID, "ticket-stage").text


def notice():
    found = driver.find_elements(By.ID, "action-notice")
    return found[0].text if found else ""


def press(button_id):
    """Presses a button of the ticket page and waits for the page drawn again after a success."""
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.ID, button_id).click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: notice() == "Salvo.")


def fits_the_screen(what):
    width, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner + 1, f"{what} is {width}px wide on a {inner}px screen"


try:
    portal.sign_in(*ana)
    open_ticket(ticket, "transfer-form")
    related = wait.until(lambda d: (lambda text: text if "Carregando" not in text else None)(d.find_element(By.ID, "related").text))
    assert "null" not in related, related
    # The ticket's SLA targets are on its page, with the queue's badges.
    deadlines = wait.until(lambda d: portal.facts("ticket-sla") or None)
    assert "Primeira resposta" in deadlines and "Resolução" in deadlines, deadlines
    assert driver.find_elements(By.CSS_SELECTOR, "#ticket-sla dd .badge.sla"), driver.find_element(By.ID, "ticket-sla").text
    press("take")
    assert portal.facts("ticket-facts").get("Com", "").startswith("Ana")

    # The label of a note a move needs says it is required, while that move is chosen.
    def move_label(name):
        return driver.find_element(By.CSS_SELECTOR, f"#move-form [name={name}]").find_element(By.XPATH, "./ancestor::label").text.strip()

    wait.until(lambda d: "cancelado" in [o.get_attribute("value") for o in Select(d.find_element(By.ID, "move-stage")).options])
    Select(driver.find_element(By.ID, "move-stage")).select_by_value("cancelado")
    assert move_label("note") == "Nota interna (obrigatória)", move_label("note")
    assert move_label("public_note") == "Texto para o cliente", move_label("public_note")
    # A move that needs a text for the customer, without it: refused, the field named by its label.
    wait.until(lambda d: "aguardando_cliente" in [o.get_attribute("value") for o in Select(d.find_element(By.ID, "move-stage")).options])
    Select(driver.find_element(By.ID, "move-stage")).select_by_value("aguardando_cliente")
    public_note = driver.find_element(By.CSS_SELECTOR, "#move-form [name=public_note]")
    assert public_note.get_attribute("required") is not None, "the move's public note is not asked for"
    assert move_label("public_note") == "Texto para o cliente (obrigatório)", move_label("public_note")
    assert move_label("note") == "Nota interna", move_label("note")
    public_note.send_keys("   ")
    driver.find_element(By.CSS_SELECTOR, "#move-form button[type=submit]").click()
    # "Enviando…" shows while the move is on its way (a loaded machine leaves it there a while).
    refusal = wait.until(lambda d: (lambda text: text if text and text != "Enviando…" else None)(d.find_element(By.ID, "action-status").text))
    assert "Texto para o cliente" in refusal and "public_note" not in refusal, refusal
    assert driver.find_element(By.CSS_SELECTOR, "#move-form [name=public_note]").get_attribute("aria-invalid") == "true"
    public_note.clear()
    public_note.send_keys("Maria, pode mandar o print da tela?")
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.CSS_SELECTOR, "#move-form button[type=submit]").click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: stage() == "Aguardando cliente")

    # A note being written survives the page drawn again after another action.
    driver.find_element(By.ID, "discussion-text").send_keys("Rascunho: conferir o log do servidor.")
    Select(driver.find_element(By.ID, "status-select")).select_by_value("pendente")
    press("status-submit")
    assert driver.find_element(By.ID, "discussion-text").get_attribute("value") == "Rascunho: conferir o log do servidor."

    # Printed: the ticket, not the agent's forms and their headings.
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    shown = driver.execute_script("return getComputedStyle(document.getElementById('ticket-actions')).display")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert shown == "none", shown
    portal.sign_out()

    # Maria on a phone follows a link to her ticket (as an e-mail's) signed out: after signing in,
    # that ticket (not her first page).
    driver.set_window_size(390, 844)
    driver.get(base + "/portal/#/t/" + ticket)
    portal.submit_login(*maria)  # the sign-out's form is drawn again for this address meanwhile
    wait.until(EC.presence_of_element_located((By.ID, "reply-form")))
    fits_the_screen("the ticket page")
    portal.shot("92-phone-ticket")
    driver.get(base + "/portal/#/")
    portal.listed_codes("tickets", lambda main: "Minhas ocorrências" in main)
    fits_the_screen("the dashboard")
    open_ticket(ticket, "reply-form")
    driver.set_window_size(1280, 1100)
    # A pasted screenshot is named after her clock (São Paulo), not UTC.
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "America/Sao_Paulo"})
    driver.execute_script(
        "const data = new DataTransfer(); data.items.add(new File(['png'], 'image.png', {type: 'image/png'}));"
        "document.getElementById('reply-text').dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));")
    pasted = wait.until(lambda d: d.find_element(By.ID, "reply-files").text or None)
    local_hour = driver.execute_script("return String(new Date().getHours()).padStart(2, '0')")
    assert f"-{local_hour}" in pasted.split("captura-")[1][:11], (pasted, local_hour)
    driver.find_element(By.CSS_SELECTOR, "#reply-files button.remove-file").click()
    driver.find_element(By.ID, "reply-text").send_keys("Segue o print da tela.\nPasso 2: gravar o pedido.")
    press("reply-submit")
    # What she wrote keeps its lines on the page (it ran into one paragraph).
    entry = driver.find_elements(By.CSS_SELECTOR, "#history .entry > p")[-1]
    assert entry.text == "Segue o print da tela.\nPasso 2: gravar o pedido.", repr(entry.text)
    assert driver.execute_script("return getComputedStyle(document.getElementById('ticket-request')).whiteSpace") == "pre-wrap"

    # Cancelling: shown at once, nothing left to answer.
    open_ticket(cancelled, "cancel-form")
    driver.find_element(By.CSS_SELECTOR, "#cancel-form [name=reason]").send_keys("Resolvido por conta própria.")
    press("cancel-submit")
    # Intake's word at once; workflow's stage and how it ended once it caught up.
    assert stage() in ("Cancelada", "Cancelado — cancelada pelo cliente"), stage()
    assert not driver.find_elements(By.ID, "reply-form") and not driver.find_elements(By.ID, "cancel-form")

    # A new ticket: the product is required by the form itself.
    driver.find_element(By.ID, "nav-new-ticket").click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-form")))
    driver.find_element(By.ID, "subject").send_keys("Relatório de comissões sai em branco — filial Goiânia")
    driver.find_element(By.ID, "request").send_keys("Desde segunda o relatório de comissões sai sem nenhuma linha.")
    driver.find_element(By.ID, "ticket-submit").click()
    assert driver.execute_script("return document.getElementById('product').validity.valueMissing"), "the product is not required"
    assert "ticket-form" in driver.page_source
    driver.find_element(By.ID, "product").send_keys("ERP")
    # Leaving the form and pressing Back: what was typed comes back.
    driver.find_element(By.CSS_SELECTOR, "#nav a[href='#/']").click()
    wait.until(EC.presence_of_element_located((By.ID, "tickets-search")))
    driver.back()
    wait.until(EC.presence_of_element_located((By.ID, "draft-restored")))
    assert driver.find_element(By.ID, "subject").get_attribute("value") == "Relatório de comissões sai em branco — filial Goiânia"
    assert driver.find_element(By.ID, "product").get_attribute("value") == "ERP"

    # The session ends while she writes: she signs in again over the page and sends it.
    driver.delete_cookie("ocorrencias_session")
    driver.find_element(By.ID, "ticket-submit").click()
    wait.until(EC.visibility_of_element_located((By.ID, "resignin")))
    assert driver.find_element(By.ID, "resignin-email").get_attribute("value") == maria[0]
    portal.shot("93-session-ended")
    driver.find_element(By.ID, "resignin-password").send_keys(maria[1])
    driver.find_element(By.ID, "resignin-submit").click()
    wait.until(lambda d: not d.find_elements(By.ID, "resignin"))
    assert driver.find_element(By.ID, "request").get_attribute("value") == "Desde segunda o relatório de comissões sai sem nenhuma linha."
    # On a slow network the form says it is sending.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1})
    driver.find_element(By.ID, "ticket-submit").click()
    wait.until(lambda d: d.find_elements(By.ID, "ticket-sending") and d.find_element(By.ID, "ticket-sending").text == "Enviando…")
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    wait.until(lambda d: "Relatório de comissões" in d.find_element(By.ID, "ticket-title").text)
    opened = driver.current_url.split("/t/")[1]
    # The session ends again and she follows a link: the page drawn once she signed in again.
    driver.delete_cookie("ocorrencias_session")
    driver.find_element(By.CSS_SELECTOR, "#nav a[href='#/']").click()
    wait.until(EC.visibility_of_element_located((By.ID, "resignin-password"))).send_keys(maria[1])
    driver.find_element(By.ID, "resignin-submit").click()
    portal.listed_codes("tickets", lambda main: "Minhas ocorrências" in main)
    assert not driver.find_elements(By.ID, "resignin")
    # Sent: the draft is gone from a new form.
    driver.find_element(By.ID, "nav-new-ticket").click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-form")))
    assert driver.find_element(By.ID, "subject").get_attribute("value") == "" and not driver.find_elements(By.ID, "draft-restored")
    portal.sign_out()

    # Ana: the unread reply is counted; marked read, the ticket is finished.
    portal.sign_in(*ana)
    limit = time.time() + 20
    while True:
        open_ticket(ticket, "transfer-form")
        if driver.find_elements(By.ID, "unread-messages") or time.time() > limit:
            break
        time.sleep(0.5)
    assert "1" in driver.find_element(By.ID, "unread-messages").text, driver.find_element(By.ID, "unread-messages").text
    press("mark-read")
    assert not driver.find_elements(By.ID, "unread-messages")
    wait.until(lambda d: "finalizado" in [o.get_attribute("value") for o in Select(d.find_element(By.ID, "move-stage")).options])
    Select(driver.find_element(By.ID, "move-stage")).select_by_value("finalizado")
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.CSS_SELECTOR, "#move-form button[type=submit]").click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: stage() == "Finalizado — resolvida")

    # Two agents at once: Bruno takes the ticket whose page Ana has open; her take is refused and
    # the page shows who holds it now.
    open_ticket(contested, "transfer-form")
    taken = urllib.request.urlopen(urllib.request.Request(
        f"{base}/v1/tickets/{contested}/take", data=b"{}", method="POST",
        headers={"Authorization": "Bearer " + os.environ["PORTAL_OTHER_AGENT_TOKEN"], "Content-Type": "application/json"}))
    assert taken.status == 200, taken.status
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.ID, "take").click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: portal.facts("ticket-facts").get("Com", "").startswith("Bruno"))
    # The service's message reads as a sentence ("a ocorrência…" from workflow; a lost take race
    # is FAILED_PRECONDITION "já está com outro agente").
    assert driver.find_element(By.ID, "action-status").text.startswith("A ocorrência já está com outro agente"), \
        driver.find_element(By.ID, "action-status").text
    # Her page now shows Bruno holding it; Bruno puts it back in the group's queue, where Ana (a
    # member) could act on it. Her repasse to Bruno from the page that showed him holding it is
    # refused (the page sends what it showed: `expected`), not applied to a ticket she did not
    # see, and the page is drawn again as it is now, saying so.
    back = urllib.request.urlopen(urllib.request.Request(
        f"{base}/v1/tickets/{contested}/transfer", data=b'{"to_group_id": "n1"}', method="POST",
        headers={"Authorization": "Bearer " + os.environ["PORTAL_OTHER_AGENT_TOKEN"], "Content-Type": "application/json"}))
    assert back.status == 200, back.status
    wait.until(lambda d: "agent:A-bruno" in [o.get_attribute("value") for o in Select(d.find_element(By.ID, "transfer-to")).options])
    Select(driver.find_element(By.ID, "transfer-to")).select_by_value("agent:A-bruno")
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.ID, "transfer-submit").click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: d.find_elements(By.ID, "action-status") and d.find_element(By.ID, "action-status").text)
    assert driver.find_element(By.ID, "action-status").text.startswith("A ocorrência mudou desde que você a abriu"), \
        driver.find_element(By.ID, "action-status").text
    assert not portal.facts("ticket-facts").get("Com", "").startswith("Bruno"), portal.facts("ticket-facts")
    # Ana takes it from the queue; Bruno, her chefe, takes it from her while her page is open. Her
    # public answer (sent without the page's expectation) is refused as from someone who no longer
    # holds it, naming who took it and when, in Portuguese only (before, 403 "está com outro
    # responsável", and the stale answer's Portuguese was cut at "grupo Nível 1 /"); the page is
    # drawn again as it is now, her text kept.
    press("take")
    wait.until(lambda d: portal.facts("ticket-facts").get("Com", "").startswith("Ana"))
    taken = urllib.request.urlopen(urllib.request.Request(
        f"{base}/v1/tickets/{contested}/take", data=b"{}", method="POST",
        headers={"Authorization": "Bearer " + os.environ["PORTAL_OTHER_AGENT_TOKEN"], "Content-Type": "application/json"}))
    assert taken.status == 200, taken.status
    driver.find_element(By.ID, "discussion-text").send_keys("Já verifiquei o certificado.")
    driver.find_element(By.ID, "discussion-public").click()
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.ID, "discussion-submit").click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: d.find_elements(By.ID, "action-status") and d.find_element(By.ID, "action-status").text)
    refusal = driver.find_element(By.ID, "action-status").text
    assert refusal.startswith("Você não é mais o responsável pela ocorrência (Bruno a assumiu em "), refusal
    assert "agente Bruno); recarregue" in refusal and "UTC-03:00" in refusal and "reload" not in refusal, refusal
    assert portal.facts("ticket-facts").get("Com", "").startswith("Bruno"), portal.facts("ticket-facts")
    assert driver.find_element(By.ID, "discussion-text").get_attribute("value") == "Já verifiquei o certificado."
    # Her e-mail about the ticket, from the same page, is refused the same way (422
    # `no_longer_holder` from notification, 403 before): the page drawn again, her message kept.
    driver.find_element(By.ID, "email-body").send_keys("Segue o passo a passo.")
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.ID, "email-submit").click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: d.find_elements(By.ID, "action-status") and d.find_element(By.ID, "action-status").text)
    refusal = driver.find_element(By.ID, "action-status").text
    assert refusal.startswith("Você não é mais o responsável pela ocorrência (Bruno a assumiu em "), refusal
    assert driver.find_element(By.ID, "email-body").get_attribute("value") == "Segue o passo a passo."
    assert not driver.find_elements(By.ID, "email-sent")
    print("OK", opened)
except Exception:
    portal.report_failure("ticket-page-care")
    raise
finally:
    driver.quit()
