#!/usr/bin/python3
"""The knowledge base page (#/base) in headless Chromium. Ana (an agent) finds the internal article
and gets no editor's tools; the administrator (an editor) approves the FAQ request in the editors'
queue, writes an article (21 tags refused first, the field named by its label), edits it, and has a stale save
refused after someone else saved; Maria (a customer) searches, sees the public articles only,
reads one and says it helped.
Usage: knowledge_page.py BASE_URL SCREENSHOT_DIR
(credentials in PORTAL_ADMIN / PORTAL_AGENT / PORTAL_CUSTOMER as email:password)."""
import os
import sys
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots = sys.argv[1:3]
admin = os.environ["PORTAL_ADMIN"].split(":", 1)
agent = os.environ["PORTAL_AGENT"].split(":", 1)
customer = os.environ["PORTAL_CUSTOMER"].split(":", 1)

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out


def d_text(element_id):
    return driver.find_element(By.ID, element_id).text


def main_text():
    return driver.find_element(By.TAG_NAME, "main").text


def search(words):
    field = wait.until(EC.element_to_be_clickable((By.ID, "kb-query")))
    field.clear()
    field.send_keys(words)
    driver.find_element(By.ID, "kb-submit").click()
    wait.until(lambda d: "Resultados para" in main_text() and "Carregando" not in main_text())
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#kb-hits > li")]


try:
    # An agent reads internal articles too; no editor's tools.
    sign_in(*agent)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-knowledge"))).click()
    wait.until(lambda d: d.find_elements(By.ID, "kb-query"))
    assert not driver.find_elements(By.ID, "kb-new") and not driver.find_elements(By.ID, "kb-queue-link"), "agents do not edit"
    hits = search("reprocessar lote")
    assert any("Reprocessar lote de boletos" in h for h in hits), hits
    driver.find_element(By.LINK_TEXT, "Reprocessar lote de boletos").click()
    wait.until(lambda d: d.find_elements(By.ID, "kb-article"))
    assert "Interno (só a equipe)" in driver.find_element(By.ID, "kb-staff-facts").text
    sign_out()

    # The editor: the queue's FAQ request approved and published; a new article.
    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-knowledge"))).click()
    link = wait.until(EC.element_to_be_clickable((By.ID, "kb-queue-link")))
    assert link.text.endswith("(1)"), link.text
    link.click()
    item = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#kb-queue > li"))
    assert "Pedido de FAQ" in item.text and ("Ana" in item.text or agent[0] in item.text), item.text
    shot("50-kb-queue")
    question = item.find_element(By.NAME, "question")
    question.clear()
    question.send_keys("Como emitir a segunda via de um boleto?")
    item.find_element(By.NAME, "publish").click()
    item.find_element(By.CLASS_NAME, "kb-approve-button").click()
    wait.until(lambda d: "virou o artigo" in d.find_element(By.ID, "kb-queue-status").text)
    assert driver.find_elements(By.ID, "kb-queue-empty")

    driver.get(base + "/portal/#/base")
    wait.until(EC.element_to_be_clickable((By.ID, "kb-new"))).click()
    wait.until(lambda d: d.find_elements(By.ID, "kb-form"))
    driver.find_element(By.ID, "kb-title").send_keys("Boleto registrado não aparece no banco")
    driver.find_element(By.ID, "kb-body").send_keys(
        "O banco leva até **um dia útil** para registrar.\n\n- Confira a remessa\n- Veja o [manual](https://ajuda.example/boletos)\n\n<script>alert(1)</script>")
    driver.find_element(By.ID, "kb-product").send_keys("ERP")
    driver.find_element(By.ID, "kb-module").send_keys("Financeiro")
    driver.find_element(By.CSS_SELECTOR, "#kb-state option[value='PUBLISHED']").click()
    tags = driver.find_element(By.ID, "kb-tags")
    tags.send_keys(", ".join(f"t{i}" for i in range(21)))
    driver.find_element(By.ID, "kb-save").click()
    # The refusal names the field by its label, not its API name, and marks it.
    wait.until(lambda d: "Etiquetas (separadas por vírgulas):" in d.find_element(By.ID, "kb-form-status").text)
    assert "tags:" not in d_text("kb-form-status"), d_text("kb-form-status")
    assert tags.get_attribute("aria-invalid") == "true"
    tags.clear()
    tags.send_keys("boleto, banco")
    shot("51-kb-editor")
    driver.find_element(By.ID, "kb-save").click()
    wait.until(lambda d: d.find_elements(By.ID, "kb-article"))
    article_id = driver.find_element(By.ID, "kb-article").get_attribute("data-article")
    body = driver.find_element(By.CSS_SELECTOR, "#kb-article .kb-body")
    assert body.find_element(By.TAG_NAME, "strong").text == "um dia útil"
    assert body.find_element(By.TAG_NAME, "a").get_attribute("href") == "https://ajuda.example/boletos"
    assert "<script>alert(1)</script>" in body.text and not body.find_elements(By.TAG_NAME, "script"), body.text

    # An edit: version 2.
    driver.find_element(By.ID, "kb-edit").click()
    field = wait.until(lambda d: d.find_element(By.ID, "kb-body"))
    field.send_keys("\n\nSe passar disso, abra uma ocorrência.")
    driver.find_element(By.ID, "kb-save").click()
    wait.until(lambda d: "Artigo salvo (versão 2)" in main_text())
    # Someone else saves while the form is open: this form's save is refused, nothing overwritten.
    driver.find_element(By.ID, "kb-edit").click()
    field = wait.until(lambda d: d.find_element(By.ID, "kb-body"))
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        api('POST', '/v1/knowledge/articles/' + arguments[0], { expected_version: 2, kind: 'ARTICLE',
          title: 'Boleto registrado não aparece no banco', body_markdown: 'Texto revisado por outra pessoa.',
          product: 'ERP', module: 'Financeiro', tags: ['boleto'], visibility: 'VISIBILITY_CUSTOMERS', state: 'PUBLISHED' })
          .then(() => done('ok'), (e) => done(String(e)));""", article_id)
    field.send_keys("\n\nMinha alteração.")
    driver.find_element(By.ID, "kb-save").click()
    wait.until(lambda d: "Outra pessoa salvou este artigo" in d.find_element(By.ID, "kb-form-status").text)
    sign_out()

    # The customer: public articles only; reads one and votes.
    sign_in(*customer)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-knowledge"))).click()
    wait.until(lambda d: d.find_elements(By.ID, "kb-articles"))
    assert not driver.find_elements(By.ID, "kb-new") and not driver.find_elements(By.ID, "kb-state")
    listed = driver.find_element(By.ID, "kb-articles").text
    assert "Boleto registrado" in listed and "Reprocessar lote" not in listed, listed
    hits = search("boleto")
    assert any("segunda via" in h for h in hits) and any("Boleto registrado" in h for h in hits), hits
    assert not any("Reprocessar" in h for h in hits), hits
    shot("52-kb-search")
    driver.find_element(By.LINK_TEXT, "Boleto registrado não aparece no banco").click()
    wait.until(lambda d: d.find_elements(By.ID, "kb-article"))
    assert not driver.find_elements(By.ID, "kb-staff-facts") and not driver.find_elements(By.ID, "kb-edit")
    assert "Texto revisado por outra pessoa." in driver.find_element(By.ID, "kb-article").text
    driver.find_element(By.ID, "kb-yes").click()
    wait.until(lambda d: "Obrigado! 1 acharam útil" in d.find_element(By.ID, "kb-vote-status").text)
    shot("53-kb-article")
    # The new ticket's FAQ of the category: the approved question unfolds its answer in place.
    driver.get(base + "/portal/#/nova")
    wait.until(lambda d: d.find_elements(By.ID, "category"))
    driver.find_element(By.CSS_SELECTOR, "#category option[value='DUVIDA']").click()
    question = wait.until(lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, "#faq button") if "segunda via" in b.text])[0]
    question.click()
    wait.until(lambda d: "Segunda via" in d.find_element(By.ID, "faq").text and question.get_attribute("aria-expanded") == "true")
    # The editor's paths show the customer the knowledge base, not a form.
    driver.get(base + "/portal/#/base/novo")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "kb-form")
    sign_out()

    # The editor: the self-service report counts Maria's draft with an opened article (still
    # within its 30 minutes); a synonym group makes "bloqueto" find the boleto article.
    sign_in(*admin)
    driver.get(base + "/portal/#/base")
    wait.until(EC.element_to_be_clickable((By.ID, "kb-deflection-link"))).click()
    card = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#kb-deflection-cards [data-figure='kbDraftsOpened'] strong"))
    assert card.text == "1", card.text
    assert driver.find_element(By.CSS_SELECTOR, "#kb-deflection-cards [data-figure='kbPending'] strong").text == "1"
    shot("54-kb-deflection")
    driver.get(base + "/portal/#/base")
    wait.until(EC.element_to_be_clickable((By.ID, "kb-synonyms-link"))).click()
    terms = wait.until(lambda d: d.find_element(By.ID, "kb-new-terms"))
    groups = len(driver.find_elements(By.CSS_SELECTOR, "#kb-synonyms > li"))
    terms.send_keys("bloqueto")
    driver.find_element(By.CSS_SELECTOR, "#kb-synonym-new button[type='submit']").click()
    wait.until(lambda d: "Termos (separados por vírgulas):" in d.find_element(By.ID, "kb-synonyms-status").text)
    assert "group.terms" not in d_text("kb-synonyms-status") and terms.get_attribute("aria-invalid") == "true", d_text("kb-synonyms-status")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#kb-synonyms > li")) == groups, "a refused group is not stored"
    terms = driver.find_element(By.ID, "kb-new-terms")
    terms.clear()
    terms.send_keys("boleto, bloqueto")
    driver.find_element(By.CSS_SELECTOR, "#kb-synonym-new button[type='submit']").click()
    wait.until(lambda d: "Grupo de sinônimos salvo" in d.find_element(By.ID, "kb-synonyms-status").text)
    values = [f.get_attribute("value") for f in driver.find_elements(By.CSS_SELECTOR, "#kb-synonyms .kb-terms")]
    assert len(values) == groups + 1 and "boleto, bloqueto" in values, values
    shot("55-kb-synonyms")
    driver.get(base + "/portal/#/base")
    hits = search("bloqueto")
    assert any("Boleto registrado" in h for h in hits), hits
    print("OK", article_id)
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
