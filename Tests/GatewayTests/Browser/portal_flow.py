#!/usr/bin/python3
"""Drives the portal in headless Chromium (Debian's chromium + chromium-driver, python3-selenium):
a customer opens a ticket with an attachment after seeing a suggestion; an agent takes it and asks
for information in public; the customer replies; the agent records the solution. Saves a
screenshot of each page. Usage: portal_flow.py BASE_URL SCREENSHOT_DIR ATTACHMENT
(customer and agent credentials in PORTAL_CUSTOMER / PORTAL_AGENT as email:password)."""
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

base, shots, attachment = sys.argv[1], sys.argv[2], sys.argv[3]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)
os.makedirs(shots, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1100", "--disable-dev-shm-usage"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 20)


def shot(name):
    driver.save_screenshot(os.path.join(shots, f"portal-{name}.png"))


def sign_in(email, password):
    driver.get(base + "/portal/")
    wait.until(EC.presence_of_element_located((By.ID, "email"))).send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "logout")))


def sign_out():
    driver.find_element(By.ID, "logout").click()
    wait.until(EC.presence_of_element_located((By.ID, "email")))


def open_ticket_page(ticket):
    driver.get(f"{base}/portal/#/t/{ticket}")
    wait.until(EC.presence_of_element_located((By.ID, "ticket-title")))


def history_text():
    # The page re-renders after each action: read again when the element went stale.
    for _ in range(20):
        try:
            return driver.find_element(By.ID, "history").text
        except (StaleElementReferenceException, NoSuchElementException):
            time.sleep(0.2)
    return ""


def history_contains(text, reload_ticket=None, seconds=20):
    limit = time.time() + seconds
    while time.time() < limit:
        if text in history_text():
            return True
        time.sleep(0.5)
        if reload_ticket:
            open_ticket_page(reload_ticket)
    raise AssertionError(f"history lacks {text!r}: {history_text()!r}")


try:
    # The customer: dashboard, then a new ticket with a suggestion shown while typing.
    sign_in(*customer)
    wait.until(EC.presence_of_element_located((By.ID, "new-ticket")))
    shot("1-customer-dashboard")
    driver.find_element(By.ID, "new-ticket").click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-form")))
    Select(driver.find_element(By.ID, "category")).select_by_value("PROBLEMA")
    driver.find_element(By.ID, "product").send_keys("ERP")
    driver.find_element(By.ID, "module").send_keys("Fiscal")
    for character in "nota fiscal rejei":
        driver.find_element(By.ID, "subject").send_keys(character)
        time.sleep(0.03)
    suggestion = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#suggestions .suggestion")))
    assert "Nota fiscal rejeitada" in suggestion.text, suggestion.text
    suggestion.click()
    time.sleep(0.5)
    shot("2-new-ticket-suggestion")
    driver.find_element(By.ID, "subject").send_keys("tada: erro 539 <script>alert(1)</script>")
    driver.find_element(By.ID, "request").send_keys("Ao transmitir a NF-e a rotina FIS001 devolve erro 539.")
    driver.find_element(By.ID, "file-input").send_keys(attachment)
    wait.until(lambda d: os.path.basename(attachment) in d.find_element(By.ID, "files").text)
    driver.find_element(By.ID, "ticket-submit").click()
    title = wait.until(EC.presence_of_element_located((By.ID, "ticket-title")))
    # The script tag typed in the subject is shown as text, never run.
    assert "<script>" in title.text, title.text
    ticket = driver.execute_script("return decodeURIComponent(location.hash.slice(4))")
    assert os.path.basename(attachment) in driver.page_source
    shot("3-customer-ticket")
    sign_out()

    # The agent: the queue, then the ticket: take it and ask in public.
    sign_in(*agent)
    limit = time.time() + 20
    while ticket not in driver.page_source and time.time() < limit:
        time.sleep(0.5)
        driver.get(base + "/portal/#/?")
        driver.refresh()
        wait.until(EC.presence_of_element_located((By.ID, "queue-filters")))
    assert ticket in driver.page_source, "ticket not in the queue"
    shot("4-agent-queue")
    open_ticket_page(ticket)
    driver.find_element(By.ID, "take").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#action-status")))
    time.sleep(0.5)
    open_ticket_page(ticket)
    driver.find_element(By.ID, "discussion-text").send_keys("Pode enviar o XML da nota?")
    driver.find_element(By.ID, "discussion-public").click()
    driver.find_element(By.ID, "discussion-submit").click()
    history_contains("Pode enviar o XML da nota?", reload_ticket=ticket)
    shot("5-agent-ticket")
    sign_out()

    # The customer sees the question and replies.
    sign_in(*customer)
    open_ticket_page(ticket)
    history_contains("Pode enviar o XML da nota?", reload_ticket=ticket)
    driver.find_element(By.ID, "reply-text").send_keys("Segue o XML em anexo.")
    driver.find_element(By.ID, "reply-submit").click()
    history_contains("Segue o XML em anexo.", reload_ticket=ticket)
    shot("6-customer-reply")
    # English switch.
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "lang").text == "Português")
    sign_out()

    # The agent records the solution.
    sign_in(*agent)
    open_ticket_page(ticket)
    history_contains("Segue o XML em anexo.", reload_ticket=ticket)
    driver.find_element(By.ID, "solution-text").send_keys("CNPJ do destinatário corrigido; nota transmitida.")
    driver.find_element(By.ID, "solution-submit").click()
    limit = time.time() + 20
    while time.time() < limit:
        open_ticket_page(ticket)
        if driver.find_elements(By.ID, "ticket-solution"):
            break
        time.sleep(0.5)
    assert "nota transmitida" in driver.find_element(By.ID, "ticket-solution").text
    shot("7-agent-solution")
    # The agent's dashboard: tickets by stage as an SVG chart drawn by the page.
    driver.find_element(By.ID, "nav-panel").click()
    chart = wait.until(EC.presence_of_element_located((By.ID, "stage-chart")))
    assert chart.find_elements(By.TAG_NAME, "rect"), "empty chart"
    shot("8-agent-dashboard")
    sign_out()
    # The survey page from the e-mail link (shown, not answered: a real token only comes by e-mail).
    driver.get(base + "/portal/pesquisa#token=example")
    wait.until(EC.presence_of_element_located((By.ID, "survey-form")))
    shot("9-survey")
    print("OK", ticket)
finally:
    driver.quit()
