#!/usr/bin/python3
"""A representative's person opens a ticket in the portal, in headless Chromium: the new-ticket
form offers the organizations the representative acts for and, once one is chosen, that
organization's contacts authorized to open tickets; the ticket opens for the chosen organization
and contact, and its page offers the representative the cancel button (the one who opened it may
cancel it). Usage: representative_ticket.py BASE_URL SCREENSHOT_DIR ORGANIZATION_NAME CONTACT_NAME
(credentials in PORTAL_REPRESENTATIVE as email:password). Prints "OK <ticket id>"."""
import os
import sys
import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots, organization_name, contact_name = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
representative = os.environ["PORTAL_REPRESENTATIVE"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot



def option_texts(select_id):
    return [o.text for o in driver.find_elements(By.CSS_SELECTOR, f"#{select_id} option")]


try:
    driver.get(base + "/portal/")
    wait.until(EC.presence_of_element_located((By.ID, "email"))).send_keys(representative[0])
    driver.find_element(By.ID, "password").send_keys(representative[1])
    driver.find_element(By.ID, "login-submit").click()
    # The dashboard offers "Nova ocorrência" to representatives too.
    wait.until(EC.element_to_be_clickable((By.ID, "new-ticket"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-form")))
    # The organizations represented (names from intake); no contact until one is chosen.
    wait.until(lambda d: any(organization_name in text for text in option_texts("organization")))
    organizations = option_texts("organization")
    assert len(organizations) == 3, organizations  # "Escolha a organização", Acme, Beta
    assert not any("Gama" in text for text in organizations), organizations
    # Submitting without an organization is refused by the page (required fields).
    driver.find_element(By.ID, "subject").send_keys("Revenda: <b>nota</b> rejeitada na filial")
    driver.find_element(By.ID, "request").send_keys("Aberta pela revenda em nome do cliente.")
    driver.find_element(By.ID, "ticket-submit").click()
    time.sleep(0.5)
    assert driver.find_elements(By.ID, "ticket-form"), "submitted without an organization"
    organization = next(o for o in driver.find_elements(By.CSS_SELECTOR, "#organization option")
                        if organization_name in o.text).get_attribute("value")
    Select(driver.find_element(By.ID, "organization")).select_by_value(organization)
    wait.until(lambda d: any(contact_name in text for text in option_texts("contact")))
    contacts = option_texts("contact")
    assert not any("Estagiário" in text for text in contacts), contacts  # not authorized to open tickets
    contact = next(o for o in driver.find_elements(By.CSS_SELECTOR, "#contact option") if contact_name in o.text).get_attribute("value")
    Select(driver.find_element(By.ID, "contact")).select_by_value(contact)
    Select(driver.find_element(By.ID, "category")).select_by_value("PROBLEMA")
    driver.find_element(By.ID, "product").send_keys("ERP")
    driver.find_element(By.ID, "module").send_keys("Fiscal")
    driver.execute_script("window.scrollTo(0, 0)")
    shot("21-representative-new-ticket")
    # English labels for the pickers.
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: "Organization" in d.find_element(By.ID, "main").text)
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: "Organização" in d.find_element(By.ID, "main").text)
    # The language switch drew the form again: choose once more and send.
    wait.until(lambda d: any(organization_name in text for text in option_texts("organization")))
    Select(driver.find_element(By.ID, "organization")).select_by_value(organization)
    wait.until(lambda d: any(contact_name in text for text in option_texts("contact")))
    Select(driver.find_element(By.ID, "contact")).select_by_value(contact)
    Select(driver.find_element(By.ID, "category")).select_by_value("PROBLEMA")
    driver.find_element(By.ID, "product").send_keys("ERP")
    driver.find_element(By.ID, "module").send_keys("Fiscal")
    driver.find_element(By.ID, "subject").send_keys("Revenda: <b>nota</b> rejeitada na filial")
    driver.find_element(By.ID, "request").send_keys("Aberta pela revenda em nome do cliente.")
    driver.find_element(By.ID, "ticket-submit").click()
    title = wait.until(EC.presence_of_element_located((By.ID, "ticket-title")))
    assert "<b>nota</b>" in title.text, title.text  # shown as text, not markup
    ticket = driver.execute_script("return decodeURIComponent(location.hash.slice(4))")
    # The representative who opened it may cancel it: the form is offered (intake's rule).
    wait.until(lambda d: d.find_elements(By.ID, "reply-form"))
    assert driver.find_elements(By.ID, "cancel-form"), "the representative who opened the ticket is not offered the cancel button"
    time.sleep(0.5)
    shot("22-representative-ticket")
    # The dashboard lists it with its organization (a column for representatives only).
    limit = time.time() + 20
    while time.time() < limit:
        driver.get(base + "/portal/#/?")
        driver.refresh()
        portal.listed_codes("tickets", lambda main: "Minhas ocorrências" in main)  # drawn, not still loading
        rows = driver.find_elements(By.CSS_SELECTOR, f'#tickets tr[data-ticket="{ticket}"] td.organization')
        if rows and organization_name in rows[0].text:
            break
        time.sleep(0.5)
    assert rows and organization_name in rows[0].text, driver.find_element(By.ID, "main").text
    shot("23-representative-dashboard")
    print("OK", ticket)
except Exception:
    # What the page showed, for the test's failure message.
    try:
        print("page:", driver.find_element(By.ID, "main").text, file=sys.stderr)
        shot("failure-" + os.path.basename(sys.argv[0]).split(".")[0])
    except Exception:
        pass
    raise
finally:
    driver.quit()
