#!/usr/bin/python3
"""The customer's "Nova ocorrência" form in headless Chromium: the support policy's explanation of
the chosen category and definition of the chosen priority (Estratégica is not offered), the
custom fields of the product and category appearing as the product is typed, the technical
details support asks for, and files chosen in order (FILE...: the caller checks how they went and
their order); then the ticket page shows what was given (facts, details, custom fields), to the
customer and to the agent.
Usage: new_ticket_form.py BASE_URL SCREENSHOT_DIR [FILE...]  (prints "OK <ticket id>")
(credentials in PORTAL_CUSTOMER / PORTAL_AGENT as email:password)."""
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots = sys.argv[1:3]
files = sys.argv[3:]
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out


def text_of(element_id):
    return driver.find_element(By.ID, element_id).text


def facts(element_id):
    return portal.facts(element_id)

try:
    sign_in(*customer)
    wait.until(EC.element_to_be_clickable((By.ID, "new-ticket"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-form")))
    categories = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "category")).options]
    assert "ESTRATEGICA" not in categories and "PROBLEMA" in categories, categories
    wait.until(lambda d: "deixou de funcionar" in text_of("category-help"))
    Select(driver.find_element(By.ID, "category")).select_by_value("EXIGENCIA_FISCAL")
    wait.until(lambda d: "obrigação legal ou fiscal" in text_of("category-help"))
    Select(driver.find_element(By.ID, "category")).select_by_value("PROBLEMA")
    assert "alternativa de contorno" in text_of("priority-help"), text_of("priority-help")
    Select(driver.find_element(By.ID, "priority")).select_by_value("URGENTE")
    wait.until(lambda d: "Operação parada" in text_of("priority-help"))
    driver.find_element(By.CSS_SELECTOR, "#support-policy summary").click()
    policy = text_of("support-policy")
    assert "Baixa: Dúvida ou ajuste" in policy and "Descreva o que aconteceu" in policy, policy

    # The product's custom fields appear once it is typed (none apply to every product here),
    # whatever its case and surrounding spaces: "erp " is the fields' "ERP".
    assert not driver.find_element(By.ID, "custom-fields").is_displayed()
    driver.find_element(By.ID, "product").send_keys("erp ")
    driver.find_element(By.ID, "module").click()
    wait.until(lambda d: d.find_element(By.ID, "custom-fields").is_displayed())
    assert "Regime tributário *" in text_of("custom-fields"), text_of("custom-fields")
    driver.find_element(By.ID, "module").send_keys("Fiscal")
    driver.find_element(By.ID, "subject").send_keys("Rotina FIS001 parada no fechamento")
    driver.find_element(By.ID, "request").send_keys("O fechamento fiscal trava na rotina FIS001 desde a atualização.")
    Select(driver.find_element(By.ID, "custom-regime")).select_by_visible_text("Lucro real")
    driver.find_element(By.ID, "custom-contingencia").click()

    driver.find_element(By.CSS_SELECTOR, "#technical-details summary").click()
    driver.find_element(By.ID, "details-system_version").send_keys("12.1.2310")
    Select(driver.find_element(By.ID, "details-database")).select_by_visible_text("SQL Server")
    Select(driver.find_element(By.ID, "details-environment")).select_by_visible_text("Nuvem")
    driver.find_element(By.ID, "details-routine").send_keys("FIS001")
    driver.find_element(By.ID, "details-previous_version").send_keys("12.1.2210")
    Select(driver.find_element(By.ID, "details-affected_users")).select_by_visible_text("Todos os usuários")
    driver.find_element(By.ID, "details-steps_to_reproduce").send_keys("Abrir FIS001, período 10/2026, Processar.")
    # The files, chosen one at a time.
    for path in files:
        driver.find_element(By.ID, "file-input").send_keys(path)
    wait.until(lambda d: all(os.path.basename(path) in d.find_element(By.ID, "files").text for path in files))
    shot("33-customer-new-ticket-details")
    driver.find_element(By.ID, "ticket-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-title")))
    ticket = driver.execute_script("return decodeURIComponent(location.hash.slice(4))")

    def check_ticket_page():
        wait.until(EC.presence_of_element_located((By.ID, "ticket-details")))
        shown = facts("ticket-facts")
        assert shown.get("Categoria") == "Problema" and shown.get("Prioridade") == "Urgente", shown
        assert shown.get("Produto") == "erp / Fiscal" and shown.get("Organização") == "Acme", shown
        details = facts("ticket-details")
        assert details.get("Banco de dados") == "SQL Server" and details.get("Ambiente") == "Nuvem", details
        assert details.get("Afeta") == "Todos os usuários" and details.get("Tela ou rotina (código)") == "FIS001", details
        custom = facts("ticket-custom-fields")
        assert custom == {"Regime tributário": "Lucro real", "Em contingência": "Sim"}, custom

    check_ticket_page()
    shot("34-customer-ticket-details")
    sign_out()

    sign_in(*agent)
    driver.get(base + "/portal/#/t/" + ticket)
    check_ticket_page()
    print("OK", ticket)
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
