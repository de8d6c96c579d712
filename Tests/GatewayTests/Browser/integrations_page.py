#!/usr/bin/python3
"""The administrators' integrations page (#/integracoes) in headless Chromium: an agent gets no
link; the administrator creates an API key for an agent role at level 1 (its secret shown once,
printed for the test to use), sees it listed, then revokes it after confirming.
The key is checked against the HTTP API between the two (it lists the queue).
Usage: integrations_page.py BASE_URL SCREENSHOT_DIR  (prints "OK <key>")
(credentials in PORTAL_ADMIN / PORTAL_AGENT as email:password)."""
import os
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from portal_browser import Portal

base, shots = sys.argv[1:3]
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out


def key_row(name):
    found = [r for r in driver.find_elements(By.CSS_SELECTOR, "#api-keys tbody tr") if r.text.startswith(name + " ")]
    return found[0] if found else None


try:
    sign_in(*agent)
    assert not driver.find_elements(By.ID, "nav-integrations"), "agents get no link"
    driver.get(base + "/portal/#/integracoes")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "key-form"), "agents do not get the page"
    sign_out()

    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-integrations"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "keys-empty")))
    driver.find_element(By.ID, "key-name").send_keys("ERP do cliente")
    Select(driver.find_element(By.ID, "key-role")).select_by_value("agent")
    level = driver.find_element(By.ID, "key-level")
    level.clear()
    level.send_keys("1")
    driver.find_element(By.ID, "key-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "new-key")))
    secret = driver.find_element(By.ID, "new-key").get_attribute("value")
    assert secret.startswith("ocr_"), secret
    row = key_row("ERP do cliente")
    assert row is not None and "Agente" in row.text and "Ativa" in row.text and "(as do papel)" in row.text, row and row.text
    assert secret not in driver.find_element(By.ID, "api-keys").text, "the secret is not in the list"
    shot("32-admin-integrations")

    # The key works on the HTTP API as a bearer token.
    request = urllib.request.Request(base + "/v1/tickets?page_size=1", headers={"Authorization": "Bearer " + secret})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200, answer.status
    driver.refresh()
    wait.until(lambda d: key_row("ERP do cliente") is not None)
    assert not driver.find_elements(By.ID, "new-key"), "the secret is shown only once"
    key_row("ERP do cliente").find_element(By.CLASS_NAME, "revoke-key").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: "foi revogada" in d.find_element(By.ID, "keys-status").text and "Revogada em" in key_row("ERP do cliente").text)
    assert not key_row("ERP do cliente").find_elements(By.CLASS_NAME, "revoke-key")
    print("OK", secret, flush=True)
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
