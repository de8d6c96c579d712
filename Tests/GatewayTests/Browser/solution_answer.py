#!/usr/bin/python3
"""Accept / reject a solution in workflow's default flow, in headless Chromium: the agent tells the
customer the solution (status "Cliente informado"); the customer rejects it, first without a reason
(refused), then with one; the agent sees the reason in the history and tells her again; she accepts
and the agent sees "Solução confirmada". Usage: solution_answer.py BASE_URL SCREENSHOT_DIR TICKET_ID
(credentials in PORTAL_CUSTOMER / PORTAL_AGENT as email:password)."""
import os
import sys
import time

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, ticket = sys.argv[1], sys.argv[2], sys.argv[3]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)
REASON = "A filial 2 continua com erro 539."

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out





def open_ticket_page():
    portal.open_ticket(ticket)


def text_of(element_id):
    for _ in range(20):
        try:
            return driver.find_element(By.ID, element_id).text
        except (StaleElementReferenceException, NoSuchElementException):
            time.sleep(0.2)
    return ""


def until(condition, what, seconds=20):
    portal.settled()  # the page is read again only once what the click sent was answered
    limit = time.time() + seconds
    while time.time() < limit:
        if condition():
            return
        time.sleep(0.5)
        open_ticket_page()
    raise AssertionError(f"{what}: history {text_of('history')!r}, status {text_of('action-status')!r}")


def tell_customer():
    open_ticket_page()
    # A rejection to read first: a solution is not proposed over an unread message.
    if driver.find_elements(By.ID, "mark-read"):
        driver.find_element(By.ID, "mark-read").click()
        until(lambda: not driver.find_elements(By.ID, "mark-read"), "the rejection is still unread")
    Select(driver.find_element(By.ID, "status-select")).select_by_value("cliente_informado")
    driver.find_element(By.ID, "status-submit").click()
    until(lambda: driver.find_elements(By.CSS_SELECTOR, '#ticket-status[data-status="cliente_informado"]'), "status not set")


try:
    sign_in(*agent)
    tell_customer()
    shot("13-agent-tells-solution")
    sign_out()

    # The customer rejects: without a reason the page shows the refusal; with one it is recorded.
    sign_in(*customer)
    open_ticket_page()
    wait.until(EC.element_to_be_clickable((By.ID, "reject-solution"))).click()
    wait.until(lambda d: "reason" in d.find_element(By.ID, "action-status").text or "motivo" in d.find_element(By.ID, "action-status").text.lower())
    driver.find_element(By.ID, "reject-reason").send_keys(REASON)
    shot("14-customer-rejects")
    driver.find_element(By.ID, "reject-solution").click()
    until(lambda: REASON in text_of("history") and not driver.find_elements(By.ID, "accept-solution"), "rejection not in the customer's history")
    sign_out()

    # The agent sees her reason, then tells her again.
    sign_in(*agent)
    open_ticket_page()
    until(lambda: REASON in text_of("history"), "rejection not in the agent's history")
    shot("15-agent-sees-rejection")
    tell_customer()
    sign_out()

    # She accepts.
    sign_in(*customer)
    open_ticket_page()
    wait.until(EC.element_to_be_clickable((By.ID, "accept-solution"))).click()
    until(lambda: not driver.find_elements(By.ID, "accept-solution"), "still awaiting acceptance")
    sign_out()
    sign_in(*agent)
    open_ticket_page()
    until(lambda: driver.find_elements(By.CSS_SELECTOR, '#ticket-status[data-status="solucao_confirmada"]'), "solution not confirmed")
    shot("16-agent-solution-confirmed")
    print("OK", ticket)
finally:
    driver.quit()
