#!/usr/bin/python3
"""An organization's representatives on the staff's customer pages (#/clientes/{id},
#/representantes/{id}) in headless Chromium: the administrator opens Acme (no representative yet),
creates one for it (an invalid e-mail refused first, beside its field), links an existing one
found by name (its other organization shown and linked), deactivates the first, unlinks the
second, links it again found by its id; on the new representative's page (its organization
listed) adds a person (one without e-mail or phone refused first), changes their phone and
deactivates them; the page speaks English on the switch. An agent sees the section with its forms.
Usage: customers_representatives.py BASE_URL SCREENSHOT_DIR ACME_ID NORTE_ID
(credentials in PORTAL_ADMIN / PORTAL_AGENT as email:password). Prints "OK <representative id>"."""
import os
import sys

from selenium.webdriver.common.by import By

from portal_browser import Portal

base, shots, acme, norte = sys.argv[1:5]
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out, text, heading, fill = portal.sign_in, portal.sign_out, portal.text, portal.heading, portal.fill


def representative_row(name):
    return portal.row_named("representatives", name)


def person_row(name):
    return portal.row_named("rep-contacts", name)


def find_and_link(query, name):
    fill("rep-q", query)
    driver.find_element(By.ID, "rep-find-submit").click()
    wait.until(lambda d: name in text("rep-found"))
    driver.find_element(By.CSS_SELECTOR, f"#rep-candidates li[data-representative='{norte}'] .link-representative").click()
    wait.until(lambda d: "vinculado a Acme" in text("cust-status"))
    wait.until(lambda d: representative_row(name) is not None)


try:
    sign_in(*admin)
    driver.get(base + "/portal/#/clientes/" + acme)
    wait.until(lambda d: heading() == "Acme" and d.find_elements(By.ID, "representatives-title"))
    assert driver.find_elements(By.ID, "representatives-empty"), "Acme has no representative yet"

    # A new representative for Acme: an invalid e-mail is refused beside its field, nothing stored.
    fill("rep-new-name", "Revenda Sul")
    fill("rep-new-email", "sem-arroba")
    driver.execute_script("arguments[0].type = 'text'", driver.find_element(By.ID, "rep-new-email"))
    driver.find_element(By.ID, "rep-new-submit").click()
    wait.until(lambda d: "E-mail" in text("rep-new-errors"))
    assert driver.find_element(By.ID, "rep-new-email").get_attribute("aria-invalid") == "true"
    fill("rep-new-email", "contato@revendasul.com.br")
    fill("rep-new-phone", "+55 51 4000-0000")
    driver.find_element(By.ID, "rep-new-submit").click()
    wait.until(lambda d: "Representante Revenda Sul criado" in text("cust-status"))
    row = representative_row("Revenda Sul")
    assert row is not None and "contato@revendasul.com.br" in row.text and row.find_element(By.CLASS_NAME, "state").text == "Ativo", row.text
    assert row.find_element(By.CLASS_NAME, "others").text == ""

    # An existing representative (acting for Beta) found by name and linked: Beta is shown and linked.
    find_and_link("Revenda Nor", "Revenda Norte")
    others = representative_row("Revenda Norte").find_element(By.CLASS_NAME, "others")
    assert others.text == "Beta Sistemas", others.text
    assert others.find_element(By.TAG_NAME, "a").get_attribute("href").split("#")[1].startswith("/clientes/")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", driver.find_element(By.ID, "representatives-title"))
    shot("77-admin-customer-representatives")

    # Revenda Sul deactivated (still listed, as inactive); Revenda Norte unlinked, then linked again by its id.
    representative_row("Revenda Sul").find_element(By.CLASS_NAME, "toggle-representative").click()
    wait.until(lambda d: "Revenda Sul foi desativado" in text("cust-status"))
    wait.until(lambda d: representative_row("Revenda Sul").find_element(By.CLASS_NAME, "state").text == "Inativo")
    representative_row("Revenda Norte").find_element(By.CLASS_NAME, "unlink-representative").click()
    wait.until(lambda d: "desvinculado de Acme" in text("cust-status"))
    assert representative_row("Revenda Norte") is None
    find_and_link(norte, "Revenda Norte")

    # Revenda Sul's page: its organization, and its people.
    representative_row("Revenda Sul").find_element(By.TAG_NAME, "a").click()
    wait.until(lambda d: heading() == "Revenda Sul")
    representative = driver.current_url.split("#/representantes/")[1]
    facts = portal.facts("rep-facts")
    assert facts["Organizações representadas"] == "Acme" and facts["Situação"].startswith("Inativo"), facts
    assert driver.find_elements(By.ID, "rep-contacts-empty")
    fill("rep-contact-new-name", "Rui Lima")
    driver.find_element(By.ID, "rep-contact-new-submit").click()
    wait.until(lambda d: "Informe e-mail ou telefone" in text("rep-contact-new-errors"))
    fill("rep-contact-new-email", "rui@revendasul.com.br")
    driver.find_element(By.ID, "rep-contact-new-submit").click()
    wait.until(lambda d: "Rui Lima adicionado" in text("cust-status"))
    person_row("Rui Lima").find_element(By.CLASS_NAME, "edit-contact").click()
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "rep-contact-edit-name")
    fill("rep-contact-edit-phone", "+55 51 4000-1111")
    driver.find_element(By.ID, "rep-contact-edit-submit").click()
    wait.until(lambda d: "Rui Lima salvo" in text("cust-status"))
    assert "+55 51 4000-1111" in person_row("Rui Lima").text and "rui@revendasul.com.br" in person_row("Rui Lima").text
    person_row("Rui Lima").find_element(By.CLASS_NAME, "toggle-active").click()
    wait.until(lambda d: "desativado" in text("cust-status"))
    wait.until(lambda d: person_row("Rui Lima").find_element(By.CLASS_NAME, "state").text == "Inativo")
    shot("78-admin-representative")

    # In English the page speaks English.
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "rep-contacts-title").text == "Representative's contacts")
    assert person_row("Rui Lima").find_element(By.CLASS_NAME, "state").text == "Inactive"
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.ID, "rep-contacts-title").text == "Contatos do representante")
    sign_out()

    # An agent sees Acme's representatives and may change them.
    sign_in(*agent)
    driver.get(base + "/portal/#/clientes/" + acme)
    wait.until(lambda d: representative_row("Revenda Norte") is not None)
    assert driver.find_elements(By.ID, "rep-new-form") and driver.find_elements(By.ID, "rep-find")
    sign_out()
    print("OK", representative)
except Exception:
    portal.report_failure("customers-representatives")
    raise
finally:
    driver.quit()
