#!/usr/bin/python3
"""The staff's customer directory (#/clientes) in headless Chromium: a customer gets no link and
#/clientes shows her own tickets; the administrator pages through the organizations (50 a page),
finds Acme by name and by its CNPJ (shown formatted), creates an organization (an invalid CNPJ
refused first, beside its field, nothing stored), adds two contacts (one without e-mail or phone refused, beside the e-mail), changes the
organization's plan (the other fields kept), deactivates one contact, invites the other (its
sign-in then "Convidado"), deactivates the organization (listed then with the inactive ones only), cannot delete Acme's contact a ticket names (intake's reason shown) and
follows Acme's link to the queue narrowed to its tickets; an agent reads and edits but has no
invitations nor sign-ins.
Usage: customers_page.py BASE_URL SCREENSHOT_DIR ACME_TICKET_CODE OTHER_TICKET_CODE
(credentials in PORTAL_ADMIN / PORTAL_AGENT / PORTAL_CUSTOMER as email:password). Prints
"OK <organization id>"."""
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, acme_code, other_code = sys.argv[1:5]
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out, text, heading, fill = portal.sign_in, portal.sign_out, portal.text, portal.heading, portal.fill


def organization_row(name):
    return portal.row_named("customers", name)


def contact_row(email):
    found = driver.find_elements(By.CSS_SELECTOR, f"#contacts tbody tr[data-email='{email}']")
    return found[0] if found else None


def search(words):
    fill("cust-q", words)
    driver.find_element(By.ID, "cust-search-submit").click()
    wait.until(lambda d: f'"{words}"' in text("cust-scope"))


try:
    # A customer: no link, and the address shows her own tickets instead.
    sign_in(*customer)
    assert not driver.find_elements(By.ID, "nav-customers"), "customers get no link"
    driver.get(base + "/portal/#/clientes")
    time.sleep(1)
    wait.until(lambda d: "Carregando" not in d.find_element(By.TAG_NAME, "main").text)
    assert heading() != "Clientes" and not driver.find_elements(By.ID, "customers"), "customers do not get the page"
    sign_out()

    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-customers"))).click()
    wait.until(lambda d: organization_row("Acme") is not None)
    assert heading() == "Clientes"
    assert organization_row("Acme").find_element(By.CLASS_NAME, "tax-id").text == "11.222.333/0001-81"
    shot("74-admin-customers")
    # Pages of 50 by name: the 51st organization is on the next page, and back.
    assert not organization_row("Prospect 49") and not driver.find_elements(By.ID, "customers-first")
    driver.find_element(By.ID, "customers-next").click()
    wait.until(lambda d: organization_row("Prospect 49") is not None and organization_row("Acme") is None)
    assert not driver.find_elements(By.ID, "customers-next")
    driver.find_element(By.ID, "customers-first").click()
    wait.until(lambda d: organization_row("Acme") is not None)
    # Found by its CNPJ as people type it, and by the start of its name.
    search("11.222.333/0001-81")
    wait.until(lambda d: organization_row("Acme") is not None)
    search("acm")
    wait.until(lambda d: organization_row("Acme") is not None)
    driver.find_element(By.CSS_SELECTOR, "#cust-scope a").click()
    wait.until(lambda d: "Todas as organizações" in text("cust-scope"))

    # A new organization: a CNPJ with wrong check digits is refused beside the field.
    fill("org-new-name", "Padaria Pão Quente Ltda")
    fill("org-new-tax-id", "04.252.011/0001-00")
    Select(driver.find_element(By.ID, "org-new-kind")).select_by_value("ORGANIZATION_CUSTOMER")
    fill("org-new-plan", "basico")
    fill("org-new-plan-includes", "Suporte em horário comercial e uma visita por mês")
    fill("org-new-email", "financeiro@paoquente.com.br")
    Select(driver.find_element(By.ID, "org-new-owner")).select_by_visible_text("Ana")
    driver.find_element(By.ID, "org-new-submit").click()
    wait.until(lambda d: "CNPJ/CPF" in text("org-new-errors"))
    assert driver.find_element(By.ID, "org-new-tax-id").get_attribute("aria-invalid") == "true"
    assert "dígitos verificadores" in text("org-new-errors"), text("org-new-errors")
    driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", driver.find_element(By.ID, "org-new-errors"))
    shot("75-admin-customer-refused")
    fill("org-new-tax-id", "04.252.011/0001-10")
    driver.find_element(By.ID, "org-new-submit").click()
    wait.until(lambda d: heading() == "Padaria Pão Quente Ltda")
    wait.until(lambda d: "criada" in text("cust-status"))
    organization = driver.current_url.split("#/clientes/")[1]
    facts = portal.facts("cust-facts")
    assert facts["CNPJ/CPF"] == "04.252.011/0001-10" and facts["Plano"] == "basico" and facts["Responsável pela conta"] == "Ana", facts
    # What the plan includes and the e-mail are read on the page, not only in the edit form.
    assert facts.get("O que o plano inclui") == "Suporte em horário comercial e uma visita por mês", facts
    assert facts.get("E-mail da organização") == "financeiro@paoquente.com.br", facts

    # Two contacts: one with neither e-mail nor phone is refused first, beside the e-mail.
    fill("contact-new-name", "Carla Dias")
    driver.find_element(By.ID, "contact-new-submit").click()
    wait.until(lambda d: "Informe e-mail ou telefone" in text("contact-new-errors"))
    assert driver.find_element(By.ID, "contact-new-email").get_attribute("aria-invalid") == "true"
    fill("contact-new-email", "carla@paoquente.com.br")
    fill("contact-new-phone", "+55 11 3333-0000")
    driver.find_element(By.ID, "contact-new-admin").click()
    driver.find_element(By.ID, "contact-new-submit").click()
    wait.until(lambda d: "Carla Dias adicionado" in text("cust-status"))
    fill("contact-new-name", "Bruno Reis")
    fill("contact-new-email", "bruno@paoquente.com.br")
    driver.find_element(By.ID, "contact-new-submit").click()
    wait.until(lambda d: "Bruno Reis adicionado" in text("cust-status"))
    wait.until(lambda d: contact_row("carla@paoquente.com.br") is not None and contact_row("bruno@paoquente.com.br") is not None)

    # The plan changes; the rest of the record stays as it was.
    fill("org-edit-plan", "premium")
    driver.find_element(By.ID, "org-edit-submit").click()
    wait.until(lambda d: "salvos" in text("cust-status"))
    facts = portal.facts("cust-facts")
    assert facts["Plano"] == "premium" and facts["CNPJ/CPF"] == "04.252.011/0001-10" and facts["Responsável pela conta"] == "Ana", facts
    assert driver.find_element(By.ID, "org-edit-plan-includes").get_attribute("value") == "Suporte em horário comercial e uma visita por mês"
    assert driver.find_element(By.ID, "org-edit-email").get_attribute("value") == "financeiro@paoquente.com.br"

    # A contact's phone changed in its own form (opened by its row's button, focused).
    contact_row("bruno@paoquente.com.br").find_element(By.CLASS_NAME, "edit-contact").click()
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "contact-edit-name")
    fill("contact-edit-phone", "+55 11 2222-0000")
    driver.find_element(By.ID, "contact-edit-submit").click()
    wait.until(lambda d: "Bruno Reis salvo" in text("cust-status"))
    assert "+55 11 2222-0000" in contact_row("bruno@paoquente.com.br").text

    # Bruno deactivated; Carla invited (her sign-in is then "Convidado").
    contact_row("bruno@paoquente.com.br").find_element(By.CLASS_NAME, "toggle-active").click()
    wait.until(lambda d: "desativado" in text("cust-status"))
    wait.until(lambda d: contact_row("bruno@paoquente.com.br").find_element(By.CLASS_NAME, "state").text == "Inativo")
    assert not contact_row("bruno@paoquente.com.br").find_elements(By.CLASS_NAME, "invite"), "an inactive contact is not invited"
    assert contact_row("carla@paoquente.com.br").find_element(By.CLASS_NAME, "access").text == "Sem acesso"
    contact_row("carla@paoquente.com.br").find_element(By.CLASS_NAME, "invite").click()
    wait.until(lambda d: "carla@paoquente.com.br" in text("cust-status"))
    wait.until(lambda d: contact_row("carla@paoquente.com.br").find_element(By.CLASS_NAME, "access").text == "Convidado")
    assert not contact_row("carla@paoquente.com.br").find_elements(By.CLASS_NAME, "invite")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", driver.find_element(By.ID, "cust-facts"))
    shot("76-admin-customer-contacts")

    # In English the page speaks English.
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "contacts-title").text == "Contacts")
    assert contact_row("bruno@paoquente.com.br").find_element(By.CLASS_NAME, "state").text == "Inactive"
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "contacts-title").text == "Contatos")

    # The organization deactivated: listed again only with the inactive ones.
    driver.find_element(By.ID, "cust-toggle-active").click()
    wait.until(lambda d: "desativada" in text("cust-status"))
    assert text("cust-state").startswith("Inativa"), text("cust-state")
    driver.find_element(By.ID, "cust-back").click()
    wait.until(lambda d: organization_row("Acme") is not None)
    assert organization_row("Padaria Pão Quente Ltda") is None
    driver.find_element(By.ID, "cust-inactive").click()
    driver.find_element(By.ID, "cust-search-submit").click()
    wait.until(lambda d: organization_row("Padaria Pão Quente Ltda") is not None)
    assert organization_row("Padaria Pão Quente Ltda").find_element(By.CLASS_NAME, "state").text == "Inativa"

    # Acme: Maria is named by a ticket, so intake refuses deleting her and the page says why.
    organization_row("Acme").find_element(By.TAG_NAME, "a").click()
    wait.until(lambda d: heading() == "Acme" and contact_row("maria@acme.com.br") is not None)
    contact_row("maria@acme.com.br").find_element(By.CLASS_NAME, "delete-contact").click()
    driver.switch_to.alert.accept()
    wait.until(lambda d: "ligado a ocorrências" in text("cust-status"))
    assert contact_row("maria@acme.com.br") is not None

    # Acme's tickets: the queue narrowed to the organization, the other organization's ticket out.
    driver.find_element(By.ID, "cust-tickets").click()
    codes = portal.listed_codes("queue", lambda main: "Acme" in main and "Fila" in main)
    assert acme_code in codes and other_code not in codes, codes
    assert "Acme" in text("queue-organization")
    driver.find_element(By.ID, "queue-every-organization").click()
    codes = portal.listed_codes("queue", lambda main: "Fila" in main and "queue-organization" not in driver.page_source)
    assert acme_code in codes and other_code in codes, codes
    sign_out()

    # An agent reads and edits the directory, without sign-ins or invitations.
    sign_in(*agent)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-customers"))).click()
    wait.until(lambda d: organization_row("Acme") is not None)
    driver.get(base + "/portal/#/clientes/" + organization)
    wait.until(lambda d: contact_row("carla@paoquente.com.br") is not None)
    assert driver.find_elements(By.ID, "org-edit-form") and driver.find_elements(By.ID, "contact-new-form")
    assert not driver.find_elements(By.CSS_SELECTOR, "#contacts .invite, #contacts .access"), "agents neither invite nor see sign-ins"
    sign_out()
    print("OK", organization)
except Exception:
    portal.report_failure("customers-page")
    raise
finally:
    driver.quit()
