#!/usr/bin/python3
"""A ticket's long history on its portal page, in headless Chromium: the page shows the newest
entries and a "Mostrar anteriores" button; pressing it with the keyboard (Enter) loads the earlier
ones, oldest first, until the button goes; Print reads every page before printing; the customer
pages through public entries only. The ticket has 30 customer replies "Resposta 000"… and then 60
agent entries "Nota 000"… (every fifth internal). Usage: ticket_history_pages.py BASE_URL
SCREENSHOT_DIR TICKET_ID (credentials in PORTAL_CUSTOMER / PORTAL_AGENT as email:password)."""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots, ticket = sys.argv[1], sys.argv[2], sys.argv[3]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot


def open_ticket_page():
    portal.open_ticket(ticket)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#history .entry")))


def history():
    return driver.find_element(By.ID, "history").text


def earlier_button():
    buttons = driver.find_elements(By.ID, "show-earlier")
    return buttons[0] if buttons and buttons[0].is_displayed() else None


def press_until_all():
    """Presses "Mostrar anteriores" with Enter until it goes; the presses made."""
    presses = 0
    while earlier_button() is not None and presses < 10:
        button = earlier_button()
        assert button.text == "Mostrar anteriores" and button.get_attribute("aria-controls") == "history", button.text
        before = history()
        button.send_keys(Keys.ENTER)
        wait.until(lambda d: history() != before)
        presses += 1
    return presses


def positions(text, labels):
    return [text.index(label) for label in labels]


try:
    portal.sign_in(*agent)
    open_ticket_page()
    first = history()
    # The newest page: the latest entries, not the first ones nor the replies before them.
    assert "Nota 059" in first and "Nota 010" in first, first[:500]
    assert "Nota 009" not in first and "Resposta 000" not in first, first[:500]
    assert earlier_button() is not None, "no Mostrar anteriores button"
    shot("history-newest-page")
    assert press_until_all() >= 1
    whole = history()
    labels = ["Resposta 000", "Resposta 029", "Nota 000", "Nota 009", "Nota 059"]
    assert all(label in whole for label in labels), whole[:800]
    assert positions(whole, labels) == sorted(positions(whole, labels)), "oldest first"
    # The focus stays where the keyboard user is: on the history once everything is shown.
    assert driver.switch_to.active_element.get_attribute("id") == "history"
    shot("history-all-pages")

    # Print reads every page first.
    open_ticket_page()
    assert "Resposta 000" not in history()
    driver.execute_script("window.__printed = null; window.print = () => { window.__printed = document.getElementById('history').innerText; };")
    driver.find_element(By.ID, "print-ticket").click()
    wait.until(lambda d: d.execute_script("return window.__printed"))
    printed = driver.execute_script("return window.__printed")
    assert all(label in printed for label in labels), printed[:800]
    portal.sign_out()

    # The customer: public entries only, pages included.
    portal.sign_in(*customer)
    open_ticket_page()
    assert "Resposta 000" not in history() and earlier_button() is not None
    press_until_all()
    shown = history()
    assert "Resposta 000" in shown and "Nota 001" in shown and "Nota 059" in shown, shown[:800]
    assert "Nota 000" not in shown and "Nota 005" not in shown and "Nota 055" not in shown, "an internal entry reached the customer"
    print("OK")
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text[:3000], file=sys.stderr)
    raise
finally:
    driver.quit()
