#!/usr/bin/python3
"""A company's administrator manages its contacts in headless Chromium: she invites a colleague on
"Contatos da empresa"; the invitation e-mail (read from the SMTP sink's folder) carries the link
where he chooses a password; he signs in, sees the company's tickets and changes his password on
"Minha conta", then signs out on every device there; she deactivates him (his sign-in is refused) and reactivates him (it works again).
Usage: company_contacts.py BASE_URL SCREENSHOT_DIR SINK_DIR (the administrator's credentials in
PORTAL_CUSTOMER as email:password). Prints "OK <contact id>"."""
import os
import re
import sys
import time

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal_browser import Portal, sink_mails

base, shots, sink = sys.argv[1], sys.argv[2], sys.argv[3]
admin = os.environ["PORTAL_CUSTOMER"].split(":", 1)
JOAO = "joao.lima@acme.com.br"
FIRST, SECOND = "Cafe-Forte-2026!", "Outra-Senha-Forte-9"

portal = Portal(base, shots)
# A patient wait: in CI every suite runs at once on two cores.
portal.wait = WebDriverWait(portal.driver, 45, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out


def invitation_link(seconds=30):
    """The link of the invitation e-mail sent to JOAO, once the sink has stored it."""
    limit = time.time() + seconds
    while time.time() < limit:
        for message, text in sink_mails(sink, JOAO):
            found = re.search(r"https?://\S+/portal/convite#token=[\w-]+", text)
            if found:
                # The e-mail names the company he is invited to (it read "portal de suporte de ." once).
                assert message["Subject"] == "Convite para o portal de suporte de Acme", message["Subject"]
                assert "portal de suporte de Acme." in text, text
                return found.group(0)
        time.sleep(0.5)
    raise AssertionError(f"no invitation e-mail to {JOAO} in {sink}: {os.listdir(sink)}")


def contact_row():
    return driver.find_element(By.CSS_SELECTOR, f'#contacts tr[data-email="{JOAO}"]')


def open_contacts():
    driver.get(base + "/portal/#/contatos")
    wait.until(EC.presence_of_element_located((By.ID, "invite-form")))


try:
    # The administrator invites a colleague from the contacts page.
    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-contacts"))).click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#contacts tr[data-email="{admin[0]}"]')))
    shot("24-company-contacts")
    # The English switch relabels the page; back to Portuguese for the rest.
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Company contacts")
    assert driver.find_element(By.ID, "invite-submit").text == "Invite"
    driver.find_element(By.ID, "lang").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Contatos da empresa")
    driver.find_element(By.ID, "invite-name").send_keys("João Lima")
    driver.find_element(By.ID, "invite-email").send_keys(JOAO)
    driver.find_element(By.ID, "invite-phone").send_keys("+55 11 4444-0000")
    driver.find_element(By.ID, "invite-submit").click()
    wait.until(lambda d: JOAO in d.find_element(By.ID, "contacts-status").text)
    wait.until(lambda d: contact_row().find_element(By.CLASS_NAME, "access").text == "Convidado")
    contact = contact_row().get_attribute("data-contact")
    shot("25-colleague-invited")
    sign_out()

    # The invitation's link: he chooses a password, signs in and sees the company's tickets.
    # The page says the policy before he types, wants the password twice, and names a refused
    # field by its label (not "password").
    driver.get(invitation_link())
    wait.until(EC.presence_of_element_located((By.ID, "new-password"))).send_keys("joao.lima-Senha-2026")
    assert "12 caracteres" in driver.find_element(By.ID, "password-rules").text
    driver.find_element(By.ID, "repeat-password").send_keys("joao.lima-Senha-2027")
    driver.find_element(By.ID, "set-password-submit").click()
    wait.until(lambda d: "não são iguais" in d.find_element(By.ID, "set-password-status").text)
    driver.find_element(By.ID, "repeat-password").clear()
    driver.find_element(By.ID, "repeat-password").send_keys("joao.lima-Senha-2026")
    driver.find_element(By.ID, "set-password-submit").click()
    refusal = wait.until(lambda d: (lambda text: text if "Nova senha:" in text else None)(d.find_element(By.ID, "set-password-status").text))
    assert "password:" not in refusal, refusal
    assert driver.find_element(By.ID, "new-password").get_attribute("aria-invalid") == "true"
    for field in ("new-password", "repeat-password"):
        driver.find_element(By.ID, field).clear()
        driver.find_element(By.ID, field).send_keys(FIRST)
    driver.find_element(By.ID, "set-password-submit").click()
    wait.until(lambda d: "Senha definida" in d.find_element(By.ID, "main").text)
    sign_in(JOAO, FIRST)
    wait.until(EC.presence_of_element_located((By.ID, "new-ticket")))
    assert not driver.find_elements(By.ID, "nav-contacts"), "a contact who is not an administrator sees the contacts page link"

    # "Minha conta": two different new passwords are refused by the page; then the change signs him out.
    driver.find_element(By.ID, "nav-account").click()
    wait.until(EC.presence_of_element_located((By.ID, "password-form")))
    assert JOAO in driver.find_element(By.ID, "account-facts").text
    driver.find_element(By.ID, "current_password").send_keys(FIRST)
    driver.find_element(By.ID, "new_password").send_keys(SECOND)
    driver.find_element(By.ID, "repeat_password").send_keys(SECOND + "x")
    driver.find_element(By.ID, "password-submit").click()
    wait.until(lambda d: "não são iguais" in d.find_element(By.ID, "password-status").text)
    shot("26-my-account")
    driver.find_element(By.ID, "repeat_password").clear()
    driver.find_element(By.ID, "repeat_password").send_keys(SECOND)
    driver.find_element(By.ID, "password-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "password-changed")))
    sign_in(JOAO, SECOND)
    # "Sair de todos os dispositivos" on the same page ends every session (this one too).
    driver.find_element(By.ID, "nav-account").click()
    wait.until(EC.element_to_be_clickable((By.ID, "logout-everywhere"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "logged-out-everywhere")))
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))
    shot("26b-signed-out-everywhere")

    # She deactivates him: his sign-in is refused; reactivated, it works again.
    sign_in(*admin)
    open_contacts()
    wait.until(lambda d: contact_row().find_element(By.CLASS_NAME, "access").text == "Ativo")
    contact_row().find_element(By.CLASS_NAME, "toggle-active").click()
    wait.until(lambda d: "desativado" in d.find_element(By.ID, "contacts-status").text)
    wait.until(lambda d: contact_row().find_element(By.CLASS_NAME, "access").text == "Bloqueado")
    shot("27-contact-deactivated")
    sign_out()
    driver.get(base + "/portal/")
    wait.until(EC.presence_of_element_located((By.ID, "email"))).send_keys(JOAO)
    driver.find_element(By.ID, "password").send_keys(SECOND)
    driver.find_element(By.ID, "login-submit").click()
    # Refused with the reason (his contact is inactive), not as a wrong password.
    wait.until(lambda d: "inativo" in d.find_element(By.ID, "login-form").text)
    sign_in(*admin)
    open_contacts()
    contact_row().find_element(By.CLASS_NAME, "toggle-active").click()
    wait.until(lambda d: contact_row().find_element(By.CLASS_NAME, "access").text == "Ativo")
    sign_out()
    sign_in(JOAO, SECOND)
    print("OK", contact)
except Exception:
    portal.report_failure("company-contacts")
    raise
finally:
    driver.quit()
