#!/usr/bin/python3
"""The administrators' team page (#/equipe) in headless Chromium: an agent gets no link and
#/equipe shows her queue; the administrator sees the team (not the customers until asked), cannot
block himself, adds an agent to a group (a weak password is refused first, naming the field),
makes Ana a chefe and Carlos her agent at level 2, renames a group and deactivates it (refused
while a routing rule sends tickets to it), blocks Ana's sign-in and reactivates it.
Usage: team_page.py BASE_URL SCREENSHOT_DIR
(credentials in PORTAL_ADMIN / PORTAL_AGENT as email:password)."""
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

portal = Portal(base, shots)
driver, wait, shot = portal.driver, portal.wait, portal.shot
sign_in, sign_out = portal.sign_in, portal.sign_out


def row(email):
    found = driver.find_elements(By.CSS_SELECTOR, f"#team tbody tr[data-email='{email}']")
    return found[0] if found else None


def team_text():
    return driver.find_element(By.ID, "team").text


def status_text():
    return driver.find_element(By.ID, "team-status").text


try:
    sign_in(*agent)
    assert not driver.find_elements(By.ID, "nav-team"), "agents get no link"
    driver.get(base + "/portal/#/equipe")
    time.sleep(1)
    assert not driver.find_elements(By.ID, "team"), "agents do not get the page"
    sign_out()

    sign_in(*admin)
    wait.until(EC.element_to_be_clickable((By.ID, "nav-team"))).click()
    wait.until(lambda d: row(agent[0]) is not None)
    assert row("maria@acme.com.br") is None, "customers are not in the team view"
    own = row(admin[0])
    assert "(você)" in own.text and not own.find_elements(By.CLASS_NAME, "toggle-access"), "no blocking oneself"
    assert "Nível 1" in row(agent[0]).find_element(By.CLASS_NAME, "groups").text

    Select(driver.find_element(By.ID, "team-filter")).select_by_value("clientes")
    wait.until(lambda d: row("maria@acme.com.br") is not None and row(agent[0]) is None)
    Select(driver.find_element(By.ID, "team-filter")).select_by_value("equipe")
    wait.until(lambda d: row(agent[0]) is not None)

    # A weak password: refused by the gateway's policy, the field named by its label, nothing created.
    driver.find_element(By.ID, "member-name").send_keys("Carlos Souza")
    driver.find_element(By.ID, "member-email").send_keys("carlos@suporte.example")
    Select(driver.find_element(By.ID, "member-role")).select_by_value("agent")
    level = driver.find_element(By.ID, "member-level")
    level.clear()
    level.send_keys("1")
    Select(driver.find_element(By.ID, "member-group")).select_by_visible_text("Nível 1")
    driver.find_element(By.ID, "member-password").send_keys("carlos123456")
    driver.find_element(By.ID, "member-submit").click()
    # The field named by its label on the form and marked (it read "password: ...").
    wait.until(lambda d: "Senha inicial:" in status_text())
    assert "password" not in status_text(), status_text()
    assert driver.find_element(By.ID, "member-password").get_attribute("aria-invalid") == "true"
    assert row("carlos@suporte.example") is None
    password = driver.find_element(By.ID, "member-password")
    password.clear()
    password.send_keys("Ceu-Azul-Marinho-77")
    driver.find_element(By.ID, "member-submit").click()
    wait.until(lambda d: "Carlos Souza foi adicionado" in status_text())
    wait.until(lambda d: row("carlos@suporte.example") is not None)
    carlos = row("carlos@suporte.example")
    assert "Agente" in carlos.text and "Nível 1" in carlos.text and "Ativo" in carlos.text, carlos.text
    shot("28-admin-team")

    # Groups: a new one, Carlos moved into it from Nível 1.
    def group_row(name):
        found = [r for r in driver.find_elements(By.CSS_SELECTOR, "#groups tbody tr") if r.find_element(By.TAG_NAME, "th").text == name]
        return found[0] if found else None

    driver.find_element(By.ID, "group-name").send_keys("Fiscal e Tributário")
    driver.find_element(By.ID, "group-submit").click()
    wait.until(lambda d: "Grupo Fiscal e Tributário criado" in status_text() and group_row("Fiscal e Tributário") is not None)
    Select(group_row("Fiscal e Tributário").find_element(By.CLASS_NAME, "member-picker")).select_by_visible_text("Carlos Souza")
    group_row("Fiscal e Tributário").find_element(By.CSS_SELECTOR, "form.include-member button").click()
    wait.until(lambda d: "Carlos Souza agora é do grupo" in status_text())
    driver.find_element(By.CSS_SELECTOR, "#groups button[aria-label='Remover Carlos Souza de Nível 1']").click()
    wait.until(lambda d: "Carlos Souza saiu do grupo Nível 1" in status_text())
    def members(name):
        return group_row(name).find_element(By.CSS_SELECTOR, "td").text
    assert "Carlos Souza" not in members("Nível 1") and "Ana" in members("Nível 1"), members("Nível 1")
    assert "Carlos Souza" in members("Fiscal e Tributário"), members("Fiscal e Tributário")
    assert row("carlos@suporte.example").find_element(By.CLASS_NAME, "groups").text == "Fiscal e Tributário"
    driver.execute_script("document.getElementById('groups-title').scrollIntoView()")
    shot("30-admin-groups")

    # Routing: fiscal requirements on ERP/Fiscal go to the new group, before the default rule.
    driver.execute_script("document.getElementById('rule-title').scrollIntoView()")
    position = driver.find_element(By.ID, "rule-position")
    position.clear()
    position.send_keys("5")
    driver.find_element(By.ID, "rule-product").send_keys("ERP")
    driver.find_element(By.ID, "rule-module").send_keys("Fiscal")
    Select(driver.find_element(By.ID, "rule-category")).select_by_visible_text("Exigência fiscal")
    Select(driver.find_element(By.ID, "rule-group")).select_by_visible_text("Fiscal e Tributário")
    driver.find_element(By.ID, "rule-submit").click()
    wait.until(lambda d: "Regra adicionada" in status_text())
    rules = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#routing tbody tr")]
    assert len(rules) == 2 and rules[0].startswith("5 (qualquer) ERP Fiscal Exigência fiscal (qualquer) Fiscal e Tributário"), rules
    assert rules[1].startswith("100 ") and "Nível 1" in rules[1], rules
    driver.execute_script("document.getElementById('routing-title').scrollIntoView()")
    shot("31-admin-routing")
    # A group made for a weekend shift, renamed, and a rule sending urgent tickets to it.
    driver.find_element(By.ID, "group-name").send_keys("Temporário")
    driver.find_element(By.ID, "group-submit").click()
    wait.until(lambda d: group_row("Temporário") is not None)
    rename = group_row("Temporário").find_element(By.CLASS_NAME, "group-rename")
    rename.clear()
    rename.send_keys("Plantão")
    group_row("Temporário").find_element(By.CSS_SELECTOR, "form.rename-group button").click()
    wait.until(lambda d: "O grupo agora se chama Plantão" in status_text() and group_row("Plantão") is not None)
    position = driver.find_element(By.ID, "rule-position")
    position.clear()
    position.send_keys("50")
    Select(driver.find_element(By.ID, "rule-priority")).select_by_visible_text("Urgente")
    Select(driver.find_element(By.ID, "rule-group")).select_by_visible_text("Plantão")
    driver.find_element(By.ID, "rule-submit").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#routing tbody tr")) == 3)
    # Deactivating it while the rule routes to it is refused, naming the rule; nothing changes.
    driver.find_element(By.CSS_SELECTOR, "#groups button[aria-label='Desativar o grupo Plantão']").click()
    wait.until(lambda d: "regras de roteamento 50" in status_text())
    assert group_row("Plantão") is not None and "(desativado)" not in driver.find_element(By.ID, "groups").text
    driver.find_element(By.CSS_SELECTOR, "#routing button[aria-label='Excluir a regra 50 (Plantão)']").click()
    wait.until(lambda d: "Regra excluída" in status_text() and len(d.find_elements(By.CSS_SELECTOR, "#routing tbody tr")) == 2)
    driver.find_element(By.CSS_SELECTOR, "#groups button[aria-label='Desativar o grupo Plantão']").click()
    wait.until(lambda d: "O grupo Plantão foi desativado" in status_text() and group_row("Plantão (desativado)") is not None)
    offered = [o.text for o in Select(driver.find_element(By.ID, "rule-group")).options]
    assert "Plantão" not in offered and "Fiscal e Tributário" in offered, offered
    assert "Plantão" not in [o.text for o in Select(driver.find_element(By.ID, "member-group")).options]

    # Ana becomes a chefe; Carlos moves to level 2 under her.
    def edit(email, role=None, level=None, chefe=None):
        row(email).find_element(By.CLASS_NAME, "edit-member").click()
        form = wait.until(lambda d: d.find_element(By.ID, "member-edit-form"))
        assert driver.switch_to.active_element == driver.find_element(By.ID, "edit-name"), "the form takes the focus"
        if role:
            Select(driver.find_element(By.ID, "edit-role")).select_by_visible_text(role)
        if level is not None:
            field = driver.find_element(By.ID, "edit-level")
            field.clear()
            field.send_keys(str(level))
        if chefe:
            Select(driver.find_element(By.ID, "edit-chefe")).select_by_visible_text(chefe)
        return form

    edit(agent[0], role="Chefe")
    driver.find_element(By.ID, "edit-submit").click()
    wait.until(lambda d: "Os dados de Ana foram alterados" in status_text() and "Chefe" in row(agent[0]).text)
    edit("carlos@suporte.example", level=2, chefe="Ana")
    driver.execute_script("document.getElementById('member-edit').scrollIntoView()")
    shot("49-admin-team-edit")
    driver.find_element(By.ID, "edit-submit").click()
    wait.until(lambda d: "Os dados de Carlos Souza foram alterados" in status_text())
    carlos = row("carlos@suporte.example")
    assert carlos.find_element(By.CLASS_NAME, "chefe").text == "Ana" and " 2 " in f" {carlos.text} ", carlos.text
    # One's own administrator role cannot be taken away on the page (the gateway refuses it too).
    row(admin[0]).find_element(By.CLASS_NAME, "edit-member").click()
    wait.until(lambda d: d.find_element(By.ID, "member-edit-form"))
    assert not driver.find_element(By.ID, "edit-role").is_enabled()
    driver.find_element(By.CSS_SELECTOR, "#member-edit-form button.secondary").click()
    wait.until(lambda d: not d.find_elements(By.ID, "member-edit-form"))

    row(agent[0]).find_element(By.CLASS_NAME, "toggle-access").click()
    wait.until(lambda d: "bloqueado" in status_text() and "Bloqueado" in row(agent[0]).text)
    shot("29-admin-team-blocked")
    row(agent[0]).find_element(By.CLASS_NAME, "toggle-access").click()
    wait.until(lambda d: "reativado" in status_text() and "Ativo" in row(agent[0]).text)
    print("OK")
except Exception:
    print("page:", driver.find_element(By.TAG_NAME, "main").text, file=sys.stderr)
    raise
finally:
    driver.quit()
