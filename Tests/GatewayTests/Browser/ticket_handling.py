#!/usr/bin/python3
"""An agent's handling forms on the ticket page in headless Chromium: Ana takes Maria's ticket and
transfers it to Bruno with a note (only her group's people and groups offered); Bruno sends it back
(a blank justification refused, naming the field by its label) with a justification after raising its
confidentiality level (he is a chefe; Ana gets no such form; Caio, below the new level, is then no
longer offered); Ana reclassifies it as urgent,
logs 30 minutes, changes the contact to João and links Maria's other ticket; the page drawn again
after each action does not read the transfer destinations or the contacts again, nor the related
tickets but after the link.
Usage: ticket_handling.py BASE_URL SCREENSHOT_DIR TICKET_ID
(credentials in PORTAL_AGENT / PORTAL_OTHER_AGENT as email:password)."""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, ticket = sys.argv[1:4]
ana = os.environ["PORTAL_AGENT"].split(":", 1)
bruno = os.environ["PORTAL_OTHER_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out


def open_ticket():
    driver.get(base + "/portal/#/t/" + ticket)
    wait.until(lambda d: d.find_elements(By.ID, "transfer-form") and d.find_elements(By.ID, "ticket-facts"))


def holder():
    return portal.facts("ticket-facts").get("Com", "")


def history():
    return driver.find_element(By.ID, "history").text


def submit(button_id):
    """Presses a form's button and waits for the page drawn again after a success."""
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.ID, button_id).click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: d.find_elements(By.ID, "transfer-form"))


try:
    sign_in(*ana)
    open_ticket()
    driver.find_element(By.ID, "take").click()
    wait.until(lambda d: holder().startswith("Ana"))
    # Offered: her group and its other members; not herself, not the group she is not in.
    options = wait.until(lambda d: [o.text for o in Select(d.find_element(By.ID, "transfer-to")).options] or None)
    assert options == ["Grupo Nível 1", "Bruno", "Caio"], options
    # Next to the copy field: outside addresses get the transfer without its internal note.
    copy_hint = driver.find_element(By.ID, driver.find_element(By.ID, "transfer-copy").get_attribute("aria-describedby"))
    assert "sem a nota interna" in copy_hint.text, copy_hint.text
    Select(driver.find_element(By.ID, "transfer-to")).select_by_visible_text("Bruno")
    driver.find_element(By.ID, "transfer-note").send_keys("Bruno conhece o módulo de vendas.")
    driver.execute_script("document.getElementById('transfer-title').scrollIntoView()")
    shot("56-agent-transfer")
    driver.find_element(By.ID, "transfer-submit").click()
    wait.until(lambda d: holder().startswith("Bruno") and "Bruno conhece o módulo de vendas." in history())
    sign_out()

    sign_in(*bruno)
    open_ticket()
    level = driver.find_element(By.ID, "access-level")
    level.clear()
    level.send_keys("1")
    driver.find_element(By.ID, "access-level-reason").send_keys("Traz dados da folha de pagamento.")
    submit("access-level-submit")
    assert driver.find_element(By.ID, "access-level").get_attribute("value") == "1"
    # At level 1 Caio (level 0) may not receive it: no longer offered (the list is read again).
    options = wait.until(lambda d: [o.text for o in Select(d.find_element(By.ID, "transfer-to")).options] or None)
    assert options == ["Grupo Nível 1", "Ana"], options
    driver.find_element(By.ID, "send-back-justification").send_keys("   ")
    driver.find_element(By.ID, "send-back-submit").click()
    # Refused, naming the field by its label on the form (not "justification").
    refusal = wait.until(lambda d: d.find_element(By.ID, "action-status").text if "Justificativa" in d.find_element(By.ID, "action-status").text else None)
    assert "justification" not in refusal, refusal
    assert holder().startswith("Bruno"), holder()
    field = driver.find_element(By.ID, "send-back-justification")
    field.clear()
    field.send_keys("Não é de vendas: o erro vem do fiscal.")
    driver.find_element(By.ID, "send-back-submit").click()
    wait.until(lambda d: holder().startswith("Ana") and "Não é de vendas: o erro vem do fiscal." in history())
    sign_out()

    sign_in(*ana)
    open_ticket()
    # From here on every request of the page is noted: the redraws after the actions below read
    # again what an action changes, not the destinations, the contacts or (but after the link)
    # the related tickets, which this visit already read.
    driver.execute_script("""
        window.fetchedPaths = [];
        const fetchFirst = window.fetch;
        window.fetch = (path, options) => { window.fetchedPaths.push(String(path)); return fetchFirst(path, options); };""")
    Select(driver.find_element(By.ID, "reclassify-priority")).select_by_value("URGENTE")
    driver.find_element(By.ID, "reclassify-reason").send_keys("Parou o faturamento da filial.")
    driver.find_element(By.ID, "reclassify-submit").click()
    wait.until(lambda d: portal.facts("ticket-facts").get("Prioridade") == "Urgente")
    assert not driver.find_elements(By.ID, "access-level-form"), "only chefes change the confidentiality level"
    driver.find_element(By.ID, "time-minutes").send_keys("30")
    Select(driver.find_element(By.ID, "time-mode")).select_by_value("phone")
    driver.find_element(By.ID, "time-note").send_keys("Ligação com a Maria.")
    submit("time-submit")
    # The contact: João instead of Maria; Maria's other ticket linked with a note.
    wait.until(lambda d: [o.text for o in Select(d.find_element(By.ID, "contact-new")).options])
    Select(driver.find_element(By.ID, "contact-new")).select_by_visible_text("João <joao@acme.com.br>")
    submit("contact-submit")
    wait.until(lambda d: portal.facts("ticket-facts").get("Contato (quem relatou)") == "João")
    other = wait.until(lambda d: d.find_element(By.ID, "link-other"))
    assert "Boleto duplicado" in other.text, other.text
    driver.find_element(By.ID, "link-note").send_keys("Mesmo lote de boletos.")
    submit("link-submit")
    linked = wait.until(lambda d: d.find_element(By.ID, "related-linked"))
    assert "Boleto duplicado" in linked.text, linked.text
    fetched = driver.execute_script("return window.fetchedPaths")
    def count(part):
        return sum(1 for path in fetched if part in path)
    assert count("/moves") >= 4, fetched  # redrawn after each of the four actions
    assert count("/transfer-destinations") == 0 and count("/contacts") == 0, fetched
    assert count("/related") == 1, fetched  # after the link only
    driver.execute_script("document.getElementById('related-title').scrollIntoView()")
    shot("57-agent-related")
    print("OK")
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
