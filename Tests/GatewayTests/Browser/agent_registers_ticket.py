#!/usr/bin/python3
"""An agent registers a customer's WhatsApp message as a ticket in headless Chromium: "Registrar
ocorrência" in the navigation, the customer found by name (one match, chosen), her authorized
contact filled in, the channel chosen (Estratégica offered to staff); the ticket page names the
contact, the channel and the agent who registered it.
Usage: agent_registers_ticket.py BASE_URL SCREENSHOT_DIR  (prints "OK <ticket id>")
(credentials in PORTAL_AGENT as email:password)."""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots = sys.argv[1:3]
agent = os.environ["PORTAL_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot


def facts(element_id):
    return portal.facts(element_id)

try:
    portal.sign_in(*agent)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-register"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "registered-for")))
    categories = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "category")).options]
    assert "ESTRATEGICA" in categories, categories
    driver.find_element(By.ID, "customer-search").send_keys("Acm")
    wait.until(lambda d: Select(d.find_element(By.ID, "organization")).first_selected_option.text.startswith("Acme"))
    # The CNPJ as people write it (it was shown as stored, 11222333000181).
    found = Select(driver.find_element(By.ID, "organization")).first_selected_option.text
    assert "11.222.333/0001-81" in found, found
    wait.until(lambda d: Select(d.find_element(By.ID, "contact")).first_selected_option.text.startswith("Maria"))
    wait.until(lambda d: len(Select(d.find_element(By.ID, "channel")).options) > 1)
    channels = [o.text for o in Select(driver.find_element(By.ID, "channel")).options]
    assert "Portal" not in channels and "Integração (API)" not in channels and Select(driver.find_element(By.ID, "channel")).first_selected_option.get_attribute("value") == "phone", channels
    Select(driver.find_element(By.ID, "channel")).select_by_value("whatsapp")
    Select(driver.find_element(By.ID, "category")).select_by_value("DUVIDA")
    driver.find_element(By.ID, "product").send_keys("ERP")
    driver.find_element(By.ID, "module").send_keys("Financeiro")
    driver.find_element(By.ID, "subject").send_keys("Como estornar uma baixa de título")
    driver.find_element(By.ID, "request").send_keys("A cliente pediu pelo WhatsApp o passo a passo para estornar a baixa do título 4411.")
    driver.execute_script("window.scrollTo(0, 0)")
    shot("35-agent-registers-ticket")
    driver.find_element(By.ID, "ticket-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-facts")))
    ticket = driver.execute_script("return decodeURIComponent(location.hash.slice(4))")
    wait.until(lambda d: facts("ticket-facts").get("Registrada por"))
    shown = facts("ticket-facts")
    assert shown.get("Contato (quem relatou)") == "Maria" and shown.get("Canal") == "WhatsApp", shown
    # The agent is named as signed in (the seeded sign-in is named by its e-mail).
    assert shown.get("Registrada por") == agent[0] and shown.get("Categoria") == "Dúvida", shown
    print("OK", ticket)
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
