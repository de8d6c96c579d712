#!/usr/bin/python3
"""The agents' e-mail quarantine page (#/correio) in headless Chromium: the customer's navigation
has no link and #/correio shows her dashboard; the agent follows the link, sees the held messages,
opens one (reason and headers), takes the first in as a reply on a ticket code, discards the
second with a reason, uploads a corrected copy of an unreadable third for an organization, and
finds all three among the resolved ones.
Usage: quarantine_page.py BASE_URL SCREENSHOT_DIR TICKET_CODE CORRECTED_FILE ORGANIZATION_ID
(credentials in PORTAL_CUSTOMER / PORTAL_AGENT as email:password)."""
import os
import sys
import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots, ticket_code, corrected, organization = sys.argv[1:6]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out


def rows():
    return driver.find_elements(By.CSS_SELECTOR, "#quarantine tbody tr")


def open_message(subject):
    # Find and click in one step, retried: the list may be drawn again (a refresh after a
    # change) between finding the row and clicking it, which leaves a stale element.
    def click(d):
        row = next((r for r in rows() if subject in r.text), None)
        if row is None:
            return False
        row.find_element(By.TAG_NAME, "a").click()
        return True
    wait.until(click)
    wait.until(EC.text_to_be_present_in_element((By.ID, "quarantine-title"), subject))


try:
    sign_in(*customer)
    assert not driver.find_elements(By.ID, "nav-quarantine"), "customers get no link"
    driver.get(base + "/portal/#/correio")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "quarantine"), "customers do not get the page"
    sign_out()

    sign_in(*agent)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-quarantine"))).click()
    wait.until(lambda d: len(rows()) == 3)
    shot("17-agent-mail-quarantine")

    open_message("Mais um detalhe")
    headers = driver.find_element(By.ID, "quarantine-headers").text
    assert "maria@acme.com.br" in headers and "Message-ID" in headers, headers
    driver.find_element(By.ID, "quarantine-ticket").send_keys(ticket_code)
    shot("18-agent-quarantined-message")
    driver.find_element(By.ID, "quarantine-reprocess-submit").click()
    wait.until(lambda d: not d.find_elements(By.ID, "quarantine-reprocess") and ticket_code in d.find_element(By.TAG_NAME, "main").text)

    driver.find_element(By.LINK_TEXT, "Voltar").click()
    open_message("Promoção")
    driver.find_element(By.ID, "quarantine-discard-reason").send_keys("propaganda")
    driver.find_element(By.ID, "quarantine-discard-submit").click()
    wait.until(lambda d: not d.find_elements(By.ID, "quarantine-discard") and "propaganda" in d.find_element(By.TAG_NAME, "main").text)

    driver.find_element(By.LINK_TEXT, "Voltar").click()
    open_message("Erro 539 de novo")
    assert "Ilegível" in driver.find_element(By.ID, "quarantine-facts").text
    driver.find_element(By.ID, "quarantine-replacement").send_keys(corrected)
    driver.find_element(By.ID, "quarantine-organization").send_keys(organization)
    driver.find_element(By.ID, "quarantine-reprocess-submit").click()
    wait.until(lambda d: not d.find_elements(By.ID, "quarantine-reprocess") and "corrected message" in d.find_element(By.TAG_NAME, "main").text)

    driver.find_element(By.LINK_TEXT, "Voltar").click()
    wait.until(EC.presence_of_element_located((By.ID, "quarantine-empty")))
    driver.find_element(By.ID, "quarantine-resolved").click()
    wait.until(lambda d: len(rows()) == 3 and d.find_element(By.ID, "quarantine").text.count("Registrada") == 2
               and "Descartada" in d.find_element(By.ID, "quarantine").text)
    print("OK")
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
