#!/usr/bin/python3
"""A customer company's people on one ticket, in headless Chromium.
João, a plain contact of the company, reads Carla's ticket and may answer it, but is offered no
cancel button (intake would refuse him); Maria, the company's administrator, is offered it.
Carla, the ticket's contact, is offered it too; her ticket waits for her ("Aguardando sua
resposta"). She replies with three files chosen in this order: a small one, one over the inline
size (uploaded apart) and another small one, while workflow's SQLite database is write-locked
for 0.8 s (workflow still answers views, but applies the reply's event only after that: its view
lags, as under load): the page drawn after "Salvo." already says "Em atendimento", and the files
are listed under her reply in the order she chose them, each with its size (Ana's earlier message's
file under Ana's message, before it).
Ana (agent), on an Exigência fiscal she holds that was solved by configuring the system: the move
form offers "Finalizado — resolvida por configuração", asks for the text for the customer, and
finishes the ticket without reclassifying it; the page then reads "Finalizado — resolvida por
configuração", and Maria (the ticket's contact) reads the same outcome on her page and in her
list, and, with the portal switched to English, "Finished — solved by configuration" in both.
Usage: customer_ticket_page.py BASE_URL SCREENSHOT_DIR TICKET_ID WORKFLOW_SQLITE FILE_A FILE_B FILE_C FISCAL_TICKET_ID
(credentials in PORTAL_CUSTOMER (Carla), PORTAL_COLLEAGUE (João), PORTAL_ADMIN_CONTACT (Maria),
PORTAL_AGENT (Ana) as email:password). Prints "OK"."""
import os
import sqlite3
import sys
import threading

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, ticket, workflow_db = sys.argv[1:5]
chosen = sys.argv[5:8]
fiscal = sys.argv[8]
ana = os.environ["PORTAL_AGENT"].split(":", 1)
carla = os.environ["PORTAL_CUSTOMER"].split(":", 1)
joao = os.environ["PORTAL_COLLEAGUE"].split(":", 1)
maria = os.environ["PORTAL_ADMIN_CONTACT"].split(":", 1)

portal = Portal(base, shots)
driver, wait = portal.driver, portal.wait
# Holds workflow's write lock while the reply is on its way (readers go on, in WAL mode).
lock = sqlite3.connect(workflow_db, isolation_level=None, timeout=10, check_same_thread=False)


def open_ticket():
    portal.open_ticket(ticket)
    wait.until(lambda d: d.find_elements(By.ID, "reply-form"))


def stage():
    return driver.find_element(By.ID, "ticket-stage").text


try:
    # João reads and may answer, but is not offered cancelling a colleague's ticket.
    portal.sign_in(*joao)
    open_ticket()
    assert not driver.find_elements(By.ID, "cancel-form"), "a colleague is offered the cancel button"
    portal.sign_out()
    # The company's administrator is.
    portal.sign_in(*maria)
    open_ticket()
    assert driver.find_elements(By.ID, "cancel-form"), "the company's administrator is not offered the cancel button"
    portal.sign_out()

    portal.sign_in(*carla)
    open_ticket()
    assert driver.find_elements(By.ID, "cancel-form"), "the ticket's contact is not offered the cancel button"
    assert stage() == "Aguardando sua resposta", stage()
    # Chosen one at a time: the order she chose them in.
    for path in chosen:
        driver.find_element(By.ID, "reply-file-input").send_keys(path)
    names = [os.path.basename(path) for path in chosen]
    listed = driver.find_element(By.ID, "reply-files").text
    assert [line.split(" (")[0] for line in listed.splitlines() if " (" in line] == names, listed
    driver.find_element(By.ID, "reply-text").send_keys("Segue o log da gravação e os arquivos.")

    # Workflow cannot write for 0.8 s as the reply leaves: it applies the reply's event only after
    # that, and answers views as they were meanwhile.
    before = driver.find_element(By.ID, "ticket-title")
    lock.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.8, lambda: lock.in_transaction and lock.execute("ROLLBACK"))
    timer.start()
    driver.find_element(By.ID, "reply-submit").click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: d.find_elements(By.ID, "action-notice") and d.find_element(By.ID, "action-notice").text == "Salvo.")
    timer.join()
    # The state her reply produces, at once: no longer waiting for her.
    assert stage() == "Em atendimento", stage()

    # Her reply's files, grouped under it, in the order she chose them, with their sizes; Ana's
    # earlier message's file under Ana's message, before it (oldest first); the open had none.
    groups = driver.find_elements(By.CSS_SELECTOR, "#ticket-attachments .attachment-group")
    titles = [g.find_element(By.TAG_NAME, "h3").text for g in groups]
    assert len(groups) == 2 and titles[0].startswith("Mensagem de Ana") and titles[1].startswith("Resposta de "), titles
    assert [a.text for a in groups[0].find_elements(By.CSS_SELECTOR, "a[data-attachment]")] == ["roteiro.txt"], groups[0].text
    mine = groups[1:]
    assert [a.text for a in mine[0].find_elements(By.CSS_SELECTOR, "a[data-attachment]")] == names, mine[0].text
    sizes = [s.text for s in mine[0].find_elements(By.CSS_SELECTOR, ".file-size")]
    assert sizes[0] == "(9 B)" and sizes[1].endswith("KiB)") and sizes[1].startswith("(293"), sizes
    portal.shot("94-reply-files-in-order")
    portal.sign_out()

    # Ana finishes an Exigência fiscal solved by configuration: the form offers that way to finish.
    portal.sign_in(*ana)
    portal.open_ticket(fiscal)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#move-stage option[value="finalizado"]'))
    option = driver.find_element(By.CSS_SELECTOR, '#move-stage option[value="finalizado"]')
    assert option.text == "Finalizado — resolvida por configuração", option.text
    Select(driver.find_element(By.ID, "move-stage")).select_by_value("finalizado")
    public_note = driver.find_element(By.CSS_SELECTOR, "#move-form [name=public_note]")
    assert public_note.get_attribute("required") is not None, "the text for the customer is not asked for"
    public_note.send_keys("Configuramos a nova regra do ICMS-ST no cadastro de tributos.")
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.CSS_SELECTOR, "#move-form button[type=submit]").click()
    wait.until(EC.staleness_of(before))
    # The finished ticket says how it ended, to the team and to the customer, in the same words.
    wait.until(lambda d: d.find_element(By.ID, "ticket-stage").text == "Finalizado — resolvida por configuração")
    portal.sign_out()
    portal.sign_in(*maria)
    portal.open_ticket(fiscal)
    wait.until(lambda d: d.find_element(By.ID, "ticket-stage").text.endswith(" — resolvida por configuração"))
    # Her list says how it ended too, as the ticket page does; switched to English, both read in
    # English (the stage of a shipped flow, the outcome, the category).
    row_badge = f'#tickets tr[data-ticket="{fiscal}"] .badge'
    driver.get(base + "/portal/#/")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row_badge)
               and d.find_element(By.CSS_SELECTOR, row_badge).text.endswith(" — resolvida por configuração"))
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row_badge)
               and d.find_element(By.CSS_SELECTOR, row_badge).text == "Finished — solved by configuration")
    portal.open_ticket(fiscal)
    wait.until(lambda d: d.find_element(By.ID, "ticket-stage").text == "Finished — solved by configuration")
    wait.until(lambda d: "Tax requirement" in d.find_element(By.ID, "ticket-facts").text)
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "ticket-stage").text.endswith(" — resolvida por configuração"))
    print("OK")
except Exception:
    portal.report_failure("customer-ticket-page")
    raise
finally:
    if lock.in_transaction:
        lock.execute("ROLLBACK")
    lock.close()
    driver.quit()
