#!/usr/bin/python3
"""The anonymous survey page of the e-mailed link, in headless Chromium: it names the ticket (code,
subject, when it was closed) and nothing else of it; the answer is sent; opened again it says the
survey was answered; a forged link shows the refusal, not a form. Usage: survey_page.py BASE_URL
SCREENSHOT_DIR TOKEN CODE SUBJECT (no sign-in: the token is the authorization)."""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots, token, code, subject = sys.argv[1:6]
portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
try:
    driver.get(f"{base}/portal/pesquisa#token={token}")
    wait.until(EC.presence_of_element_located((By.ID, "survey-form")))
    about = portal.text("survey-ticket")
    assert code in about and subject in about, about
    assert portal.text("survey-finished").startswith("Encerrada em "), portal.text("survey-finished")
    main = driver.find_element(By.TAG_NAME, "main").text
    # Nothing else of the ticket: not its request, its company, its agent or its solution.
    for secret in ("Ao gravar o pedido", "Acme", "Ana", "atualizado", "Teste de novo"):
        assert secret not in main, f"{secret!r} shown: {main}"
    shot("survey-page-ticket")
    driver.find_element(By.CSS_SELECTOR, "label:has(#survey-form-score-4)").click()
    driver.find_element(By.ID, "survey-form-comment").send_keys("Bom atendimento.")
    driver.find_element(By.ID, "survey-form-submit").click()
    wait.until(lambda d: "Obrigado pela resposta" in d.find_element(By.TAG_NAME, "main").text)
    # The same link again: the ticket, and that it was answered (no second form).
    driver.get(base + "/portal/")
    driver.get(f"{base}/portal/pesquisa#token={token}")
    wait.until(EC.presence_of_element_located((By.ID, "survey-answered")))
    assert code in portal.text("survey-ticket") and not driver.find_elements(By.ID, "survey-form")
    # A forged link: the refusal, no form, no ticket.
    driver.get(base + "/portal/")
    driver.get(f"{base}/portal/pesquisa#token=forjado")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "main .error")))
    assert not driver.find_elements(By.ID, "survey-form") and not driver.find_elements(By.ID, "survey-ticket")
    print("OK")
except Exception:
    portal.report_failure("survey-page")
    raise
finally:
    driver.quit()
