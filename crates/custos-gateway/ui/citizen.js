"use strict";
// The citizen's report: sign in with NID + one-time code, list the accesses, and check each
// access's inclusion proof against the log's signed checkpoint in the browser.
(() => {
  const { esc, api, errorText, b64, verifyInclusion, checkCheckpoint } = Custos;
  const KEY = "custos.citizen";
  const msg = document.getElementById("msg");
  let nid = "";

  document.getElementById("otp-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    nid = document.getElementById("nid").value.trim();
    const r = await api(KEY, "POST", "/v1/citizens/otp", { nid });
    if (r.status !== 200) { msg.className = "bad"; msg.textContent = errorText(r); return; }
    msg.className = "muted";
    msg.textContent = "If this NID has a registered mobile number, a code is on its way. It is valid for 5 minutes.";
    document.getElementById("step2").classList.remove("hidden");
    document.getElementById("code").focus();
  });

  document.getElementById("code-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    const code = document.getElementById("code").value.trim();
    const r = await api(KEY, "POST", "/v1/citizens/session", { nid, code });
    if (r.status !== 200) { msg.className = "bad"; msg.textContent = errorText(r); return; }
    sessionStorage.setItem(KEY, r.data.token);
    msg.textContent = "";
    document.getElementById("step1").classList.add("hidden");
    document.getElementById("step2").classList.add("hidden");
    report();
  });

  async function report() {
    const r = await api(KEY, "GET", "/v1/citizens/me/accesses");
    if (r.status !== 200) { msg.className = "bad"; msg.textContent = errorText(r); return; }
    document.getElementById("report").classList.remove("hidden");
    document.getElementById("note").textContent = `${r.data.accesses.length} access(es). ${r.data.note}`;
    document.getElementById("rows").innerHTML = r.data.accesses.map(a => `<tr data-index="${a.index}">
      <td>${esc(a.time)}</td><td>${esc(a.agency)}</td><td>${esc(a.unit)}</td><td>${esc(a.category)}</td><td>${esc(a.purpose)}</td>
      <td><button type="button" class="secondary proof" data-index="${a.index}">Verify in the log</button><div class="proof-result" role="status"></div></td></tr>`).join("");
    for (const b of document.querySelectorAll("button.proof")) b.addEventListener("click", () => prove(b));
    document.getElementById("s3").focus();
  }

  async function prove(button) {
    const out = button.nextElementSibling;
    out.textContent = "checking…";
    const r = await api(KEY, "GET", `/v1/citizens/me/accesses/${button.dataset.index}/proof`);
    if (r.status !== 200) { out.className = "proof-result bad"; out.textContent = errorText(r); return; }
    const p = r.data;
    try {
      const cp = await checkCheckpoint(p.checkpoint, p.log_key);
      const ok = cp.size === p.tree_size && await verifyInclusion(p.index, p.tree_size, b64(p.leaf_hash), p.proof.map(b64), cp.root);
      const sig = cp.signed === true ? `signed by ${cp.origin}` : cp.signed === null ? "signature not checkable in this browser" : "SIGNATURE INVALID";
      out.className = "proof-result " + (ok && cp.signed !== false ? "ok" : "bad");
      out.textContent = ok ? `verified: entry ${p.index} is in the log of ${p.tree_size.toLocaleString()} entries (${sig})` : "NOT verified: the proof does not lead to the signed root";
      out.setAttribute("data-verified", String(ok && cp.signed === true));
    } catch (e) {
      out.className = "proof-result bad";
      out.textContent = "NOT verified: " + e.message;
    }
  }
})();
