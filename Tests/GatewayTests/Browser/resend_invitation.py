#!/usr/bin/python3
"""A pending invitation sent again from the portal, in headless Chromium: the company's
administrator finds "Reenviar convite" on her invited colleague's row of "Contatos da empresa",
clicks it and reads that it went; the administrator finds the same button on the team page for an
invited agent. Usage: resend_invitation.py BASE_URL SCREENSHOT_DIR SINK_DIR CONTACT_EMAIL
AGENT_EMAIL (credentials in PORTAL_CUSTOMER / PORTAL_ADMIN as email:password). Prints "OK <token>"
with the token of the newest invitation e-mail to CONTACT_EMAIL."""
import os
import re
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal, sink_mails

base, shots, sink, contact, agent = sys.argv[1:6]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot


def links(address):
    """The tokens of the invitation links e-mailed to `address`, oldest first."""
    found = (re.search(r"/portal/convite#token=([\w-]+)", text) for _, text in sink_mails(sink, address))
    return [match.group(1) for match in found if match]


def until(condition, what, seconds=30):
    limit = time.time() + seconds
    while time.time() < limit:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(what)


try:
    until(lambda: len(links(contact)) == 1, f"no first invitation to {contact}")
    portal.sign_in(*customer)
    driver.get(base + "/portal/#/contatos")
    row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#contacts tr[data-email="{contact}"]')))
    assert row.find_element(By.CLASS_NAME, "access").text == "Convidado", row.text
    row.find_element(By.CSS_SELECTOR, "button.resend-invite").click()
    wait.until(lambda d: f"Convite reenviado para {contact}" in portal.text("contacts-status"))
    shot("contacts-resend-invitation")
    until(lambda: len(links(contact)) == 2, f"no second invitation to {contact}")
    first, second = links(contact)
    assert first != second, "the resent invitation has the same link"
    portal.sign_out()
    # The administrator: the team page's invited agent has the button too.
    portal.sign_in(*admin)
    driver.get(base + "/portal/#/equipe")
    row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#team tr[data-email="{agent}"]')))
    row.find_element(By.CSS_SELECTOR, "button.resend-invite").click()
    until(lambda: len(links(agent)) == 2, f"no second invitation to {agent}")
    # An active member has none.
    assert not driver.find_elements(By.CSS_SELECTOR, '#team tr[data-email="ana@suporte.example"] button.resend-invite')
    print("OK", second)
except Exception:
    portal.report_failure("resend-invitation")
    raise
finally:
    driver.quit()
