#!/usr/bin/python3
"""How headless Chromium caches the portal (PortalCachingTests): on the first load every asset it
fetches carries ?v=<12 hex digits> and the scripts run (the sign-in form is drawn); on the next
visit the assets come from its cache without a request (immutable) while the page itself is asked
for again (no-cache) and answered 304 (revalidated), and the scripts run again. The CSP lets
every one of them load.
Usage: portal_caching.py BASE_URL SCREENSHOT_DIR  (prints "OK <assets>")."""
import re
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from portal_browser import Portal

base, shots = sys.argv[1:3]
portal = Portal(base, shots)
driver, wait = portal.driver, portal.wait

# The page's assets as (URL, bytes that crossed the network: 0 when served from the cache), the
# page's own transfer, and the scripts and style sheets it names. A load the CSP blocked would be
# missing from the timing list: every one named must have been fetched.
RESOURCES = """return {assets: performance.getEntriesByType('resource').filter((e) => e.name.includes('/assets/'))
  .map((e) => [e.name, e.transferSize]), page: performance.getEntriesByType('navigation')[0].transferSize,
  scripts: Array.from(document.scripts).map((s) => s.src), styles: Array.from(document.styleSheets).map((s) => s.href)}"""


def load():
    driver.get(base + "/portal/")
    wait.until(EC.presence_of_element_located((By.ID, "email")))
    return driver.execute_script(RESOURCES)


problems = []
try:
    first = load()
    named = set(first["scripts"] + first["styles"])
    fetched = {name for name, _ in first["assets"]}
    if len(named) < 15 or named != fetched:
        problems.append(f"the page names {sorted(named)} and fetched {sorted(fetched)}")
    for name in sorted(named):
        if not re.search(r"/assets/[a-z]+\.(js|css)\?v=[0-9a-f]{12}$", name):
            problems.append(f"unversioned: {name}")
    for name, size in first["assets"]:
        if size == 0:
            problems.append(f"first load from a cache: {name}")
    driver.get("about:blank")
    second = load()
    for name, size in second["assets"]:
        if size != 0:
            problems.append(f"asked again on the second visit: {name} ({size} bytes)")
    # Asked again (bytes crossed), answered 304 without the body (fewer bytes than the first time).
    if not 0 < second["page"] < first["page"]:
        problems.append(f"the page was not revalidated: {second['page']} bytes, {first['page']} the first time")
    if problems:
        raise AssertionError("\n".join(problems))
    print(f"OK {len(second['assets'])}")
except Exception:
    print("page:", driver.page_source[:2000], file=sys.stderr)
    raise
finally:
    driver.quit()
