#!/usr/bin/python3
"""An administrator's own stage named in English (Triagem fiscal: "Tax triage", "Em triagem" /
"In triage" to customers; workflow's stage_name_en and customer_stage_name_en), in headless
Chromium. Ana, with the portal in English, is offered the move to "Tax triage" on the ticket she
holds, makes it, and the page then reads "Tax triage" ("Triagem fiscal" back in Portuguese). Maria,
the ticket's contact, reads "Em triagem" in her list and "In triage" there and on the ticket's page
in English.
Usage: stage_english_names.py BASE_URL SCREENSHOT_DIR TICKET_ID
(credentials in PORTAL_AGENT (Ana) and PORTAL_CUSTOMER (Maria) as email:password). Prints "OK"."""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, ticket = sys.argv[1:4]
ana = os.environ["PORTAL_AGENT"].split(":", 1)
maria = os.environ["PORTAL_CUSTOMER"].split(":", 1)

portal = Portal(base, shots)
driver, wait = portal.driver, portal.wait


def language(code):
    """Switches the portal to `code` ("en" or "pt-BR"): the switch names the other language."""
    other = "Português" if code == "en" else "English"
    if driver.find_element(By.ID, "lang").text != other:
        driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "lang").text == other)


def stage():
    return driver.find_element(By.ID, "ticket-stage").text


try:
    portal.sign_in(*ana)
    language("en")
    portal.open_ticket(ticket)
    option = '#move-stage option[value="triagem_fiscal"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, option))
    assert driver.find_element(By.CSS_SELECTOR, option).text == "Tax triage", driver.find_element(By.CSS_SELECTOR, option).text
    assert stage() == "In service", stage()
    Select(driver.find_element(By.ID, "move-stage")).select_by_value("triagem_fiscal")
    before = driver.find_element(By.ID, "ticket-title")
    driver.find_element(By.CSS_SELECTOR, "#move-form button[type=submit]").click()
    wait.until(EC.staleness_of(before))
    wait.until(lambda d: d.find_elements(By.ID, "ticket-stage") and stage() == "Tax triage")
    language("pt-BR")
    wait.until(lambda d: d.find_elements(By.ID, "ticket-stage") and stage() == "Triagem fiscal")
    portal.sign_out()

    portal.sign_in(*maria)
    row_badge = f'#tickets tr[data-ticket="{ticket}"] .badge'
    driver.get(base + "/portal/#/")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row_badge) and d.find_element(By.CSS_SELECTOR, row_badge).text == "Em triagem")
    language("en")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row_badge) and d.find_element(By.CSS_SELECTOR, row_badge).text == "In triage")
    portal.open_ticket(ticket)
    wait.until(lambda d: d.find_elements(By.ID, "ticket-stage") and stage() == "In triage")
    portal.shot("95-stage-in-english")
    print("OK")
except Exception:
    portal.report_failure("stage-english-names")
    raise
finally:
    driver.quit()
