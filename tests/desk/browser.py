#!/usr/bin/python3
"""The desk's page in headless Chromium (WebDriver): a clerk's path.

Usage: browser.py URL SHOTS GBKFILE COLLECTOR_PID

Prints one line per check, "ok DESCRIPTION" or "not ok DESCRIPTION: why",
for tests/desk_browser.t to count; screenshots (PNG) go to SHOTS.
Checks: the type picker finds a type by its Chinese name; the form is
filled with the keyboard and submitted twice (a double click) and shows
it saved; My reports shows it stored; the spreadsheet preview flags the
bad rows of a GBK file; with the collector stopped (SIGSTOP) a report
waits and is stored once it runs again; a form posted from another site
is refused; the page fits 360 px; the English switch.
"""
import os
import signal
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

url, shots, gbk, cpid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(shots, exist_ok=True)


def check(cond, desc, why=""):
    print(("ok " if cond else "not ok ") + desc + ("" if cond else ": " + why), flush=True)


opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1100,900", "--lang=zh-CN", "--user-data-dir=" + os.path.join(shots, ".profile")):
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
wait = WebDriverWait(drv, 10)
try:
    drv.get(url + "/")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#type-list button")))
    check("同心填报台" in drv.title, "the page is in Chinese by default", drv.title)
    search = drv.find_element(By.ID, "type-search")
    search.send_keys("云座谈")
    buttons = drv.find_elements(By.CSS_SELECTOR, "#type-list button")
    check(len(buttons) == 1 and buttons[0].get_attribute("data-type") == "cloud_meeting",
          "the type picker finds a type by its Chinese name", str(len(buttons)))
    # Keyboard only: Tab to the type, Enter.
    search.send_keys(Keys.TAB)
    drv.switch_to.active_element.send_keys(Keys.ENTER)
    wait.until(EC.presence_of_element_located((By.ID, "report-form")))
    at = drv.find_element(By.ID, "occurred_at")
    check(at.get_attribute("value") != "", "the time defaults to now", "empty")
    drv.execute_script("arguments[0].value = '2025-04-01T09:30'", at)
    drv.find_element(By.ID, "partner-search").send_keys("贡嘎")
    time.sleep(0.2)
    check(drv.find_element(By.ID, "partner").get_attribute("value") == "540522",
          "the region picker finds a county by name", drv.find_element(By.ID, "partner").get_attribute("value"))
    drv.find_element(By.ID, "attr-participants").send_keys("12")
    drv.find_element(By.ID, "attr-topic").send_keys("云座谈：对口帮扶")
    drv.save_screenshot(os.path.join(shots, "desk-new.png"))
    submit = drv.find_element(By.ID, "submit")
    # A double click: the second must not store a second report.
    drv.execute_script("arguments[0].click(); arguments[0].disabled = false; arguments[0].click();", submit)
    wait.until(lambda d: d.find_element(By.ID, "report-form").get_attribute("data-saved"))
    saved = drv.find_element(By.ID, "form-message").text
    check("已保存" in saved, "the form says it is saved", saved)
    drv.save_screenshot(os.path.join(shots, "desk-saved.png"))

    # My reports: the report, stored.
    drv.find_element(By.XPATH, "//header//button[text()='我的填报']").click()
    wait.until(lambda d: "已入库" in d.find_element(By.ID, "reports").text)
    rows = drv.find_elements(By.CSS_SELECTOR, "#reports tbody tr")
    check(len(rows) == 1, "My reports lists one report after a double click", str(len(rows)))
    check("已入库" in rows[0].text, "shown stored", rows[0].text)
    status = drv.find_element(By.ID, "status").text
    check("已连接采集器" in status, "the status bar says connected", status)
    drv.save_screenshot(os.path.join(shots, "desk-mine.png"))

    # The collector stopped: the report waits, and is stored when it runs.
    os.kill(cpid, signal.SIGSTOP)
    try:
        drv.find_element(By.XPATH, "//header//button[text()='新建填报']").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#type-list button[data-type='visit']"))).click()
        wait.until(EC.presence_of_element_located((By.ID, "report-form")))
        drv.execute_script("document.getElementById('occurred_at').value = '2025-05-01T10:00'")
        drv.find_element(By.ID, "attr-delegates").send_keys("8")
        drv.find_element(By.ID, "attr-direction").send_keys("来访")
        drv.find_element(By.ID, "submit").click()
        wait.until(lambda d: d.find_element(By.ID, "report-form").get_attribute("data-saved"))
        drv.find_element(By.XPATH, "//header//button[text()='我的填报']").click()
        wait.until(lambda d: "等待发送" in d.find_element(By.ID, "reports").text)
        check(True, "with the collector stopped, the report is shown waiting")
        drv.save_screenshot(os.path.join(shots, "desk-waiting.png"))
    finally:
        os.kill(cpid, signal.SIGCONT)
    WebDriverWait(drv, 30).until(lambda d: "等待发送" not in d.find_element(By.ID, "reports").text
                                 and "已入库" in d.find_element(By.ID, "reports").text)
    states = [r.find_elements(By.TAG_NAME, "td")[2].text for r in drv.find_elements(By.CSS_SELECTOR, "#reports tbody tr")]
    check(states == ["已入库", "已入库"], "and stored once the collector runs again", str(states))

    # A spreadsheet in GBK with two bad rows: flagged in the preview.
    drv.find_element(By.XPATH, "//header//button[text()='导入表格']").click()
    sel = wait.until(EC.presence_of_element_located((By.ID, "import-type")))
    sel.send_keys("走访互访")
    drv.find_element(By.ID, "import-file").send_keys(gbk)
    drv.find_element(By.ID, "import-check").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#import-result table")))
    bad = drv.find_elements(By.CSS_SELECTOR, "#import-result td.state-refused")
    check(len(bad) == 2, "the preview flags the two bad rows", str(len(bad)))
    check(not drv.find_elements(By.ID, "import-send"), "and offers nothing to send", "a send button")
    drv.save_screenshot(os.path.join(shots, "desk-import.png"))

    # 360 px wide: nothing wider than the screen.
    drv.set_window_size(360, 800)
    drv.find_element(By.XPATH, "//header//button[text()='新建填报']").click()
    time.sleep(0.3)
    width = drv.execute_script("return document.documentElement.scrollWidth")
    inner = drv.execute_script("return window.innerWidth")
    check(width <= inner, "the page fits 360 px", "%s > %s" % (width, inner))
    drv.save_screenshot(os.path.join(shots, "desk-360.png"))
    drv.set_window_size(1100, 900)

    errors = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
    check(not errors, "no errors in the console (CSP, scripts)", str(errors[:2]))

    # A form on another site posting to the desk: refused (no session
    # cookie goes with it, SameSite=Strict; no CSRF token).
    other = ("data:text/html;charset=utf-8,<form method='post' action='%s/api/reports' "
             "enctype='text/plain'><input name='{\"type\":\"visit\",\"x\":\"' value='\"}'></form>"
             "<script>document.forms[0].submit()</script>" % url)
    drv.get(other)
    wait.until(lambda d: d.current_url.startswith(url))
    body = drv.find_element(By.TAG_NAME, "body").text
    check("刷新页面" in body, "a form posted from another site is refused", body[:200])
    drv.get(url + "/")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#type-list button")))

    # English by the switch.
    drv.find_element(By.ID, "lang").click()
    wait.until(lambda d: "New report" in d.find_element(By.ID, "top").text)
    check(drv.title == "Tongxin reporting desk", "the switch turns the page English", drv.title)
except Exception as e:  # a failed wait: say where
    check(False, "the clerk's path", repr(e)[:300])
    drv.save_screenshot(os.path.join(shots, "desk-failure.png"))
finally:
    drv.quit()
