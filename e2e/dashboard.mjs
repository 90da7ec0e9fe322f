// End-to-end: the oversight dashboard and the citizens' report in headless Chromium.
//
//   node dashboard.mjs BASE_URL CREDENTIALS_JSON SERVER_LOG NID OUT_DIR
//
// Signs in as the auditor, triages an alert, opens an officer's timeline, verifies the log;
// a reviewer reads an investigator's request for approval and approves it; then signs in as the citizen NID (reading the one-time code from the server's log, where
// the demo's sender writes it) and verifies one access's inclusion proof in the page.
// Screenshots go to OUT_DIR. Exits non-zero on the first failed step.
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";

const [base, credsPath, serverLog, nid, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node dashboard.mjs BASE_URL CREDENTIALS_JSON SERVER_LOG NID OUT_DIR");
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const creds = JSON.parse(readFileSync(credsPath, "utf8"));
const token = role => creds.accounts.find(a => a.role === role).token;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const step = name => console.log(`ok - ${name}`);
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  // CI machines are small and a debug-built server is slow: be patient, not flaky.
  page.setDefaultTimeout(120000);
  const errors = [];
  page.on("pageerror", e => errors.push(e.message));
  page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });

  // Sign in with a token, by keyboard.
  await page.goto(base + "/");
  await page.getByLabel("API token").fill(token("auditor"));
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: /Alert queue/ }).waitFor();
  step("auditor signed in; alert queue shown");

  // Triage the newest alert: close it as a false positive, with a note.
  const row = page.locator("tr[data-alert]").first();
  const alertId = await row.getAttribute("data-alert");
  await row.getByLabel("Action").selectOption("close_false_positive");
  await row.getByLabel("Note").fill("checked with the unit: a training exercise");
  await row.getByRole("button", { name: "Apply" }).click();
  await page.locator(`tr[data-alert="${alertId}"] td.state`, { hasText: "closed_false_positive" }).waitFor();
  await page.screenshot({ path: `${out}/alerts.png`, fullPage: false });
  step(`alert ${alertId} closed as a false positive`);

  // An officer's timeline: the seed-case sellers are the demo's first suspects.
  const officer = (await row.locator("a").first().textContent()).trim();
  await page.goto(`${base}/#officer/${encodeURIComponent(officer)}`);
  await page.locator("#timeline[data-drawn=true] svg rect").first().waitFor();
  const bars = await page.locator("#timeline svg rect").count();
  if (bars < 1) throw new Error("the timeline drew no bars");
  await page.screenshot({ path: `${out}/officer.png`, fullPage: true });
  step(`officer ${officer}'s timeline drew ${bars} bars`);

  // The audit log: verify from the files.
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByRole("button", { name: "Verify the whole log" }).click();
  await page.locator("#verify-result", { hasText: "verified:" }).waitFor();
  await page.screenshot({ path: `${out}/log.png` });
  step("the log verified from the dashboard");
  if (errors.length) throw new Error("page errors: " + errors.join("; "));

  // Two-person rule: an investigator asks for a name search; a reviewer reads the exact
  // request in the dashboard, and only then may approve it.
  const asked = await fetch(base + "/v1/approvals", {
    method: "POST",
    headers: { "Authorization": "Bearer " + token("investigator"), "Content-Type": "application/json" },
    body: JSON.stringify({ action: "name_search", request: { name: "Rahim Uddin", case: "CASE-E2E", warrant: "W-E2E", purpose: "identify the caller" } }),
  });
  if (asked.status !== 200) throw new Error("approval request: " + asked.status + " " + (await asked.text()));
  const approvalId = (await asked.json()).approval;
  const rpage = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  rpage.setDefaultTimeout(120000);
  rpage.on("pageerror", e => errors.push(e.message));
  await rpage.goto(base + "/#approvals");
  await rpage.getByLabel("API token").fill(token("reviewer"));
  await rpage.keyboard.press("Enter");
  const arow = rpage.locator(`tr[data-approval="${approvalId}"]`);
  const approve = arow.getByRole("button", { name: "Approve" });
  if (!(await approve.isDisabled())) throw new Error("Approve was enabled before the request was read");
  await arow.getByRole("button", { name: "Read the request" }).click();
  await arow.locator("pre.request", { hasText: "Rahim Uddin" }).waitFor();
  await approve.click();
  await arow.locator("td.state", { hasText: "approved" }).waitFor();
  await rpage.screenshot({ path: `${out}/approvals.png`, fullPage: false });
  step(`approval ${approvalId} read and given by the reviewer`);
  if (errors.length) throw new Error("page errors: " + errors.join("; "));

  // The citizen: NID, one-time code from the server's log, the report, a verified proof.
  const cpage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  cpage.setDefaultTimeout(120000);
  cpage.on("pageerror", e => errors.push(e.message));
  await cpage.goto(base + "/citizen");
  const before = readFileSync(serverLog, "utf8").length;
  await cpage.getByLabel("National ID number (NID)").fill(nid);
  await cpage.getByRole("button", { name: "Send me a code" }).click();
  let code = null;
  for (let i = 0; i < 100 && !code; i++) {
    const m = readFileSync(serverLog, "utf8").slice(before).match(/code=(\d{6})/);
    if (m) code = m[1]; else await new Promise(r => setTimeout(r, 100));
  }
  if (!code) throw new Error("no one-time code in the server log");
  await cpage.getByLabel("Six-digit code").fill(code);
  await cpage.getByRole("button", { name: "Sign in" }).click();
  await cpage.locator("#rows tr").first().waitFor();
  const n = await cpage.locator("#rows tr").count();
  await cpage.locator("#rows tr").first().getByRole("button", { name: "Verify in the log" }).click();
  const result = cpage.locator("#rows tr .proof-result").first();
  await cpage.waitForFunction(() => {
    const r = document.querySelector("#rows tr .proof-result");
    return r && r.textContent && r.textContent !== "checking…";
  });
  if ((await result.getAttribute("data-verified")) !== "true") {
    throw new Error("the proof did not verify: " + (await result.textContent()));
  }
  const shown = await cpage.locator("#report").textContent();
  if (/OFF-\d+/.test(shown)) throw new Error("the citizen's report names an officer");
  await cpage.screenshot({ path: `${out}/citizen.png`, fullPage: true });
  step(`citizen saw ${n} access(es) and verified a proof against the signed checkpoint`);
  if (errors.length) throw new Error("page errors: " + errors.join("; "));
} catch (e) {
  console.error("not ok - " + e.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
