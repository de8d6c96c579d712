#!/usr/bin/python3
"""The administrators' catalog page (#/cadastros) in headless Chromium: an agent gets no link nor
page; the administrator sees the built-in channels marked as such (no deactivate button), adds
the channel "Telefone 0800" (a new one with Skype's key refused on the page) and deactivates Skype; saves a required list-of-choices field for
product ERP without choices (refused: the field's error under the form, nothing listed), then with
its choices, and edits its English label; adds a text field and deactivates it; edits the support
policy's texts (Urgente's definition, Problema's explanation, the writing tips). Then the
customer's Nova ocorrência shows the new explanation, definition and tips, and for ERP the new
field but not the deactivated one.
Usage: catalog_page.py BASE_URL SCREENSHOT_DIR  (prints "OK")
(credentials in PORTAL_ADMIN / PORTAL_AGENT / PORTAL_CUSTOMER as email:password)."""
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots = sys.argv[1:3]
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out

URGENT = "Operação parada: abra aqui e ligue também para o 0800."
PROBLEM = "Erro em algo que funcionava antes da última atualização."
TIPS = "Inclua o número da nota fiscal e a mensagem de erro completa."


def row(table, key):
    found = driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr[data-key='{key}']")
    return found[0] if found else None


def text_of(element_id):
    return driver.find_element(By.ID, element_id).text


def type_into(element_id, text):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def scroll_to(element_id):
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", driver.find_element(By.ID, element_id))


def saved(section, words):
    """Waits for `words` in the section's status."""
    wait.until(lambda d: words in d.find_element(By.ID, f"catalog-{section}-status").text)


def save(button_id, section, words):
    """Presses a form's button and waits for the page drawn again after the save (the status of
    the page before may already hold the same words), with `words` in the section's status."""
    before = driver.find_element(By.ID, f"catalog-{section}-status")
    driver.find_element(By.ID, button_id).click()
    wait.until(EC.staleness_of(before))
    saved(section, words)


try:
    sign_in(*agent)
    assert not driver.find_elements(By.ID, "nav-catalog"), "agents get no link"
    driver.get(base + "/portal/#/cadastros")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "catalog-channel-form"), "agents do not get the page"
    sign_out()

    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-catalog"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "catalog-channel-form")))
    # Built-in channels and origins: marked, with no deactivate button.
    for table, key in (("catalog-channels", "portal"), ("catalog-channels", "email"), ("catalog-origins", "customer")):
        shown = row(table, key)
        assert "do sistema" in shown.text and not shown.find_elements(By.CLASS_NAME, "toggle-entry"), shown.text
    assert row("catalog-channels", "whatsapp").find_elements(By.CLASS_NAME, "toggle-entry")

    # A new channel, then Skype deactivated.
    type_into("catalog-channel-key", "0800")
    type_into("catalog-channel-label-pt", "Telefone 0800")
    type_into("catalog-channel-label-en", "Toll-free line")
    save("catalog-channel-submit", "channel", "Salvo: Telefone 0800.")
    added = row("catalog-channels", "0800")
    assert added.get_attribute("data-active") == "true" and "Toll-free line" in added.text, added.text
    # A new entry with a key already taken is refused on the page (a save would replace it).
    type_into("catalog-channel-key", "skype")
    type_into("catalog-channel-label-pt", "Outro Skype")
    driver.find_element(By.ID, "catalog-channel-submit").click()
    wait.until(lambda d: "Já existe um cadastro com a chave skype" in text_of("catalog-channel-errors"))
    assert "Outro Skype" not in text_of("catalog-channels")
    row("catalog-channels", "skype").find_element(By.CLASS_NAME, "toggle-entry").click()
    saved("channel", "Desativado: Skype.")
    assert row("catalog-channels", "skype").get_attribute("data-active") == "false"
    assert "Reativar" in row("catalog-channels", "skype").text
    scroll_to("catalog-channels-title")
    shot("37-admin-catalog-channels")

    # A required list of choices for ERP: refused without choices, nothing listed.
    type_into("catalog-field-label-pt", "Módulo contratado")
    Select(driver.find_element(By.ID, "catalog-field-kind")).select_by_value("FIELD_CHOICE")
    type_into("catalog-field-product", "ERP")
    driver.find_element(By.ID, "catalog-field-required").click()
    driver.find_element(By.ID, "catalog-field-submit").click()
    wait.until(lambda d: "Informe as opções." in text_of("catalog-field-errors"))
    assert "Opções: Informe as opções." in text_of("catalog-field-errors"), text_of("catalog-field-errors")
    assert driver.find_element(By.ID, "catalog-field-choices").get_attribute("aria-invalid") == "true"
    assert driver.find_elements(By.ID, "catalog-fields-empty"), "the refused field is not listed"
    assert driver.find_element(By.ID, "catalog-field-label-pt").get_attribute("value") == "Módulo contratado", "what was typed stays"
    scroll_to("catalog-field-form-title")
    shot("38-admin-catalog-field-refused")
    type_into("catalog-field-choices", "Fiscal\nFolha de pagamento\nEstoque")
    save("catalog-field-submit", "field", "Campo Módulo contratado salvo.")
    field = row("catalog-fields", "modulo_contratado")
    assert "ERP · todas as categorias" in field.text and "Fiscal, Folha de pagamento, Estoque" in field.text, field.text
    assert field.find_element(By.CLASS_NAME, "required").text == "Sim", field.text
    # Edited: its key stays, the English label changes.
    field.find_element(By.CLASS_NAME, "edit-field").click()
    assert driver.find_element(By.ID, "catalog-field-key").get_attribute("readonly") is not None
    type_into("catalog-field-label-en", "Contracted module")
    save("catalog-field-submit", "field", "Campo Módulo contratado salvo.")
    # A second field, deactivated.
    type_into("catalog-field-label-pt", "Número do pedido")
    save("catalog-field-submit", "field", "Campo Número do pedido salvo.")
    row("catalog-fields", "numero_do_pedido").find_element(By.CLASS_NAME, "toggle-field").click()
    saved("field", "Campo Número do pedido desativado.")
    assert row("catalog-fields", "numero_do_pedido").get_attribute("data-active") == "false"

    # The support policy's texts.
    type_into("catalog-policy-priority-URGENTE-pt", URGENT)
    type_into("catalog-policy-category-PROBLEMA-pt", PROBLEM)
    type_into("catalog-policy-tips-pt", TIPS)
    scroll_to("catalog-policy-title")
    shot("39-admin-catalog-policy")
    save("catalog-policy-submit", "policy", "Textos da política salvos.")
    assert driver.find_element(By.ID, "catalog-policy-priority-URGENTE-pt").get_attribute("value") == URGENT
    sign_out()

    # The customer's Nova ocorrência: the new wording and the new field for ERP.
    sign_in(*customer)
    wait.until(EC.element_to_be_clickable((By.ID, "new-ticket"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket-form")))
    Select(driver.find_element(By.ID, "category")).select_by_value("PROBLEMA")
    wait.until(lambda d: text_of("category-help") == PROBLEM)
    Select(driver.find_element(By.ID, "priority")).select_by_value("URGENTE")
    wait.until(lambda d: text_of("priority-help") == URGENT)
    driver.find_element(By.CSS_SELECTOR, "#support-policy summary").click()
    policy = text_of("support-policy")
    assert ("Urgente: " + URGENT) in policy and TIPS in policy, policy
    driver.find_element(By.ID, "product").send_keys("ERP")
    driver.find_element(By.ID, "module").click()
    wait.until(lambda d: d.find_element(By.ID, "custom-fields").is_displayed())
    extra = text_of("custom-fields")
    assert "Módulo contratado *" in extra and "Número do pedido" not in extra, extra
    options = [o.text for o in Select(driver.find_element(By.ID, "custom-modulo_contratado")).options]
    assert options[1:] == ["Fiscal", "Folha de pagamento", "Estoque"], options
    driver.set_window_size(1280, 1500)
    shot("40-customer-new-ticket-catalog")
    print("OK", flush=True)
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
