#!/usr/bin/python3
"""A company's administrator whose contact support took the `admin` flag from, in headless
Chromium: signed in, she has no *Contatos da empresa* link, *Minha conta* names her role as
*Contato do cliente* and says why, and a colleague's ticket offers her no cancel. Given the flag
back (the test does it between the two runs), the link is there again and the account page says
*Administrador da empresa* without the note.
Usage: withdrawn_administrator.py BASE_URL SCREENSHOT_DIR withdrawn|restored TICKET_ID
(credentials in PORTAL_CUSTOMER as email:password)."""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots, state, ticket = sys.argv[1:5]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
withdrawn = state == "withdrawn"

portal = Portal(base, shots)
driver, wait = portal.driver, portal.wait

try:
    portal.sign_in(*customer)
    wait.until(EC.presence_of_element_located((By.ID, "nav-account")))
    assert bool(driver.find_elements(By.ID, "nav-contacts")) != withdrawn, "the contacts page link"
    driver.find_element(By.ID, "nav-account").click()
    wait.until(EC.presence_of_element_located((By.ID, "password-form")))
    facts = driver.find_element(By.ID, "account-facts").text
    note = portal.text("administration-withdrawn")
    if withdrawn:
        assert "Contato do cliente" in facts, facts
        assert "O suporte retirou de você a administração da empresa" in note, note
    else:
        assert "Administrador da empresa" in facts and not note, (facts, note)
    portal.shot(f"account-{state}")
    # A colleague's ticket: the cancel form only for a company's administrator.
    portal.open_ticket(ticket)
    portal.loaded()
    assert bool(driver.find_elements(By.ID, "cancel-form")) != withdrawn, "the cancel form"
    print("OK")
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text[:3000], file=sys.stderr)
    raise
finally:
    driver.quit()
