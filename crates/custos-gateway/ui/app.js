"use strict";
// The oversight dashboard: hash-routed views over the gateway's API. Every call carries the
// signed-in token; every view the server answers is audited there.
(() => {
  const { esc, el, api, errorText } = Custos;
  const KEY = "custos.token";
  const view = document.getElementById("view");
  let me = null;

  const call = (m, p, b, ct) => api(KEY, m, p, b, ct);
  function show(html) { view.innerHTML = html; view.focus(); }
  function sev(s) { return `<span class="sev-${esc(s)}">${esc(s)}</span>`; }

  async function signIn(token) {
    sessionStorage.setItem(KEY, token);
    const r = await call("GET", "/v1/me");
    if (r.status !== 200) {
      sessionStorage.removeItem(KEY);
      document.getElementById("signin-error").textContent = "Sign-in failed: " + errorText(r);
      return false;
    }
    me = r.data;
    document.getElementById("who").textContent = `${me.subject} · ${(me.roles.length ? me.roles : ["admin"]).join(", ")}${me.unit ? " · " + me.unit : ""}`;
    document.getElementById("signin").classList.add("hidden");
    document.getElementById("nav").classList.remove("hidden");
    document.getElementById("signout").classList.remove("hidden");
    return true;
  }

  async function alerts() {
    const r = await call("GET", "/v1/alerts");
    if (r.status !== 200) return show(`<section class="card"><h2>Alerts</h2><p role="alert" class="bad">${esc(errorText(r))}</p></section>`);
    const rows = r.data.alerts.map(a => `<tr data-alert="${esc(a.id)}">
      <td>${esc(a.time)}</td><td><a href="#officer/${encodeURIComponent(a.officer)}">${esc(a.officer)}</a><div class="muted">${esc(a.unit)}</div></td>
      <td>${esc(a.detector)}</td><td>${sev(a.severity)}</td><td>${esc(a.detail)}</td>
      <td class="state">${esc(a.state)}</td>
      <td><form class="triage row" data-id="${esc(a.id)}">
        <label class="sr" for="act-${esc(a.id)}">Action</label>
        <select id="act-${esc(a.id)}" name="action">
          <option value="acknowledge">Acknowledge</option><option value="escalate">Escalate</option>
          <option value="close_abuse">Close as abuse</option><option value="close_false_positive">Close as false positive</option>
        </select>
        <label for="note-${esc(a.id)}">Note</label>
        <input id="note-${esc(a.id)}" name="note" size="18">
        <button type="submit">Apply</button></form><div class="muted result" role="status"></div></td></tr>`).join("");
    show(`<section class="card" aria-labelledby="ah"><h2 id="ah">Alert queue (${r.data.alerts.length})</h2>
      <table><thead><tr><th>Time (UTC)</th><th>Officer</th><th>Detector</th><th>Severity</th><th>Evidence</th><th>State</th><th>Triage</th></tr></thead><tbody>${rows}</tbody></table></section>`);
    for (const f of view.querySelectorAll("form.triage")) {
      f.addEventListener("submit", async ev => {
        ev.preventDefault();
        const id = f.dataset.id;
        const res = await call("POST", `/v1/alerts/${id}/triage`, { action: f.action.value, note: f.note.value });
        const row = f.closest("tr");
        const out = row.querySelector(".result");
        if (res.status === 200) { row.querySelector(".state").textContent = res.data.state; out.textContent = "saved (audited)"; }
        else out.textContent = errorText(res);
      });
    }
  }

  async function officer(id) {
    const r = await call("GET", `/v1/officers/${encodeURIComponent(id)}`);
    if (r.status !== 200) return show(`<section class="card"><h2>Officer ${esc(id)}</h2><p role="alert" class="bad">${esc(errorText(r))}</p></section>`);
    const o = r.data;
    const reasons = (o.risk && o.risk.reasons || []).map(x => `<li><b>${esc(x.code)}</b>: ${esc(x.detail)}</li>`).join("");
    const al = o.alerts.map(a => `<li>${esc(a.time)} ${sev(a.severity)} ${esc(a.detector)} — ${esc(a.detail)}</li>`).join("");
    show(`<section class="card" aria-labelledby="oh"><h2 id="oh">Officer ${esc(o.officer)} <span class="muted">${esc(o.unit)}</span></h2>
      <p>Risk score: <b>${o.risk ? esc(o.risk.score.toFixed(1)) : "0"}</b>${o.risk && o.risk.first_flagged ? `, first flagged ${esc(o.risk.first_flagged)}` : ""}</p>
      <div id="timeline" aria-label="Requests per day: answered and refused, alerts marked"></div>
      <h3>Reasons</h3><ul>${reasons || "<li>nothing unusual</li>"}</ul><h3>Alerts</h3><ul>${al || "<li>none</li>"}</ul></section>`);
    drawTimeline(document.getElementById("timeline"), o.days, o.alerts);
  }

  function drawTimeline(host, days, alerts) {
    const W = 900, H = 220, m = 34, n = Math.max(1, days.length);
    const max = Math.max(1, ...days.map(d => d.allowed + d.refused));
    const s = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": "timeline" }, host);
    el("line", { x1: m, y1: H - m, x2: W - 4, y2: H - m, stroke: "#999" }, s);
    el("text", { x: 0, y: m }, s, String(max));
    const bw = (W - m - 4) / n, index = {};
    days.forEach((d, i) => {
      index[d.day] = i;
      const ha = (H - 2 * m) * d.allowed / max, hr = (H - 2 * m) * d.refused / max;
      if (d.allowed) el("rect", { x: m + i * bw, y: H - m - ha, width: Math.max(1, bw - 1), height: ha, fill: "#3b73b9" }, s).appendChild(el("title", {}, null, `${d.day}: ${d.allowed} answered`));
      if (d.refused) el("rect", { x: m + i * bw, y: H - m - ha - hr, width: Math.max(1, bw - 1), height: hr, fill: "#e8871e" }, s).appendChild(el("title", {}, null, `${d.day}: ${d.refused} refused`));
    });
    const col = { medium: "#f2c230", high: "#d93025", critical: "#111" };
    for (const a of alerts) {
      const i = index[a.time.slice(0, 10)];
      if (i === undefined) continue;
      el("circle", { cx: m + (i + 0.5) * bw, cy: m - 12, r: 5, fill: col[a.severity] || "#999" }, s).appendChild(el("title", {}, null, `${a.detector} (${a.severity})`));
    }
    if (days.length) { el("text", { x: m, y: H - 8 }, s, days[0].day); el("text", { x: W - 80, y: H - 8 }, s, days[days.length - 1].day); }
    host.setAttribute("data-drawn", "true");
  }

  async function cases() {
    const r = await call("GET", "/v1/cases");
    if (r.status !== 200) return show(`<section class="card"><h2>Cases</h2><p role="alert" class="bad">${esc(errorText(r))}</p></section>`);
    const reviewer = me && me.roles.includes("reviewer");
    const w = r.data.warrants.map(x => `<tr class="${x.expiring ? "expiring" : ""}"><td>${esc(x.id)}</td><td>${esc(x.case)}</td><td>${esc(x.issuer)}</td><td>${esc(x.categories.join(", "))}</td><td>${x.subjects}</td><td>${esc(x.valid_from)} → ${esc(x.valid_to)}</td><td>${x.active ? (x.expiring ? "expiring soon" : "active") : esc(x.status === "active" ? "not in force" : x.status)}</td></tr>`).join("");
    const c = r.data.cases.map(x => `<tr><td>${esc(x.id)}</td><td>${esc(x.unit)}</td><td>${esc(x.officers.join(", "))}</td><td>${x.subjects}</td><td>${x.open ? "open" : "closed"}</td><td>${x.covert ? "covert" : ""}${reviewer && x.covert && x.open ? ` <button type="button" class="secondary release" data-id="${esc(x.id)}">Release to citizens</button>` : ""}</td></tr>`).join("");
    show(`<section class="card"><h2>Warrants (${r.data.warrants.length}; expiring first)</h2><table><thead><tr><th>Warrant</th><th>Case</th><th>Issued by</th><th>Categories</th><th>Subjects</th><th>Valid</th><th>Status</th></tr></thead><tbody>${w}</tbody></table></section>
      <section class="card"><h2>Cases (${r.data.cases.length})</h2><table><thead><tr><th>Case</th><th>Unit</th><th>Officers</th><th>Subjects</th><th>State</th><th></th></tr></thead><tbody>${c}</tbody></table></section>`);
    for (const b of view.querySelectorAll("button.release")) b.addEventListener("click", async () => {
      const res = await call("POST", `/v1/cases/${encodeURIComponent(b.dataset.id)}/release`);
      b.replaceWith(document.createTextNode(res.status === 200 ? " released" : " " + errorText(res)));
    });
  }

  async function log() {
    const r = await call("GET", "/v1/audit/status");
    if (r.status !== 200) return show(`<section class="card"><h2>Audit log</h2><p role="alert" class="bad">${esc(errorText(r))}</p></section>`);
    const s = r.data;
    show(`<section class="card" aria-labelledby="lh"><h2 id="lh">Audit log ${esc(s.origin)}</h2>
      <p>${s.size.toLocaleString()} entries; root <code>${esc(s.root)}</code></p>
      <h3>Latest cosigned checkpoint (size ${s.cosigned_size.toLocaleString()})</h3><pre>${esc(s.cosigned || s.checkpoint)}</pre>
      <p>Signed by: ${s.signers.map(esc).join(", ") || "—"}</p><p class="muted">Log key: <code>${esc(s.log_key)}</code></p>
      <button type="button" id="verify">Verify the whole log</button><p id="verify-result" role="status"></p></section>`);
    document.getElementById("verify").addEventListener("click", async () => {
      const out = document.getElementById("verify-result");
      out.textContent = "verifying…";
      const v = await call("POST", "/v1/audit/verify");
      if (v.status !== 200) { out.textContent = errorText(v); return; }
      out.className = v.data.ok ? "ok" : "bad";
      out.textContent = v.data.ok ? `verified: ${v.data.entries.toLocaleString()} entries and ${v.data.tiles} tiles recompute to the signed root (${v.data.seconds.toFixed(2)} s)` : `FAILED: ${v.data.error}`;
    });
  }

  function leaks() {
    show(`<section class="card" aria-labelledby="kh"><h2 id="kh">Leak investigation</h2>
      <form id="leak-form"><label for="leak-file">Telegram export (result.json, messages.html or text)</label>
      <input id="leak-file" type="file" accept=".json,.html,.htm,.txt,.csv" required> <button type="submit">Trace</button></form>
      <div id="leak-result" role="status"></div></section>`);
    document.getElementById("leak-form").addEventListener("submit", async ev => {
      ev.preventDefault();
      const f = document.getElementById("leak-file").files[0];
      const out = document.getElementById("leak-result");
      if (!f) return;
      out.textContent = "tracing…";
      const ct = /\.json$/i.test(f.name) ? "application/json" : /\.html?$/i.test(f.name) ? "text/html" : "text/plain";
      const r = await call("POST", "/v1/leaks", await f.arrayBuffer(), ct);
      if (r.status !== 200) { out.textContent = errorText(r); return; }
      const s = r.data.suspects.slice(0, 15).map((x, i) => `<tr><td>${i + 1}</td><td><a href="#officer/${encodeURIComponent(x.officer)}">${esc(x.officer)}</a></td><td>${x.guilt.toFixed(3)}</td><td>${x.covered}</td><td>${x.exclusive}</td><td>${esc(x.first_access)} → ${esc(x.last_access)}</td></tr>`).join("");
      const c = (r.data.coalitions || []).slice(0, 5).map(x => `<li>${esc(x.officers.join(" + "))}: explains ${x.covered}</li>`).join("");
      out.innerHTML = `<p>${r.data.scanned.messages} messages scanned; ${r.data.found.length} identifiers found; ${r.data.matched_subjects} matched the log. Finding <code>${esc(r.data.leak)}</code>.</p>
        <table><thead><tr><th>#</th><th>Account</th><th>Guilt</th><th>Leaked subjects pulled</th><th>Only this account</th><th>Pulled</th></tr></thead><tbody>${s}</tbody></table>
        <h3>Coalitions</h3><ul>${c || "<li>none</li>"}</ul>`;
    });
  }

  async function breakglass() {
    const r = await call("GET", "/v1/break-glass/reviews");
    if (r.status !== 200) return show(`<section class="card"><h2>Break-glass reviews</h2><p role="alert" class="bad">${esc(errorText(r))}</p></section>`);
    const rows = r.data.reviews.map(b => `<tr><td>${esc(b.id)}</td><td><a href="#officer/${encodeURIComponent(b.officer)}">${esc(b.officer)}</a></td><td>${esc(b.case)}</td><td>${esc(b.justification)}</td>
      <td><form class="bg row" data-id="${esc(b.id)}"><label for="bg-${esc(b.id)}">Note</label><input id="bg-${esc(b.id)}" name="note" required><button type="submit">Close review</button></form><div class="muted" role="status"></div></td></tr>`).join("");
    show(`<section class="card"><h2>Break-glass reviews (${r.data.reviews.length} open)</h2><table><thead><tr><th>Grant</th><th>Officer</th><th>Case</th><th>Justification</th><th>Review</th></tr></thead><tbody>${rows}</tbody></table></section>`);
    for (const f of view.querySelectorAll("form.bg")) f.addEventListener("submit", async ev => {
      ev.preventDefault();
      const res = await call("POST", `/v1/break-glass/${encodeURIComponent(f.dataset.id)}/close`, { note: f.note.value });
      f.nextElementSibling.textContent = res.status === 200 ? "closed (audited)" : errorText(res);
    });
  }

  async function approvals() {
    const r = await call("GET", "/v1/approvals");
    if (r.status !== 200) return show(`<section class="card"><h2>Approvals</h2><p role="alert" class="bad">${esc(errorText(r))}</p></section>`);
    const rows = r.data.approvals.map(a => `<tr data-approval="${esc(a.approval)}"><td><code>${esc(a.approval)}</code></td><td>${esc(a.action)}</td>
      <td><a href="#officer/${encodeURIComponent(a.requester)}">${esc(a.requester)}</a><div class="muted">${esc(a.requester_unit || "")}</div></td>
      <td class="state">${esc(a.status)}</td><td>${esc(new Date(a.expires * 1000).toISOString())}</td>
      <td><button type="button" class="read secondary">Read the request</button>
        ${a.yours_to_give ? '<button type="button" class="give" disabled>Approve</button>' : ""}
        <pre class="request"></pre><div class="muted result" role="status"></div></td></tr>`).join("");
    show(`<section class="card"><h2>Approvals (${r.data.approvals.length} open)</h2>
      <p class="muted">Read the exact request before approving it: it runs once, as written, by its requester. Reading and approving are both audited.</p>
      <table><thead><tr><th>Approval</th><th>For</th><th>Requester</th><th>State</th><th>Expires (UTC)</th><th>Request</th></tr></thead><tbody>${rows}</tbody></table></section>`);
    for (const tr of view.querySelectorAll("tr[data-approval]")) {
      const id = tr.dataset.approval;
      const give = tr.querySelector("button.give");
      const out = tr.querySelector(".result");
      tr.querySelector("button.read").addEventListener("click", async () => {
        const v = await call("GET", `/v1/approvals/${encodeURIComponent(id)}`);
        if (v.status !== 200) { out.textContent = errorText(v); return; }
        tr.querySelector("pre.request").textContent = JSON.stringify(v.data.request, null, 2);
        if (give) give.disabled = false;
      });
      if (give) give.addEventListener("click", async () => {
        const res = await call("POST", `/v1/approvals/${encodeURIComponent(id)}/approve`, {});
        if (res.status !== 200) { out.textContent = errorText(res); return; }
        tr.querySelector(".state").textContent = "approved";
        give.remove();
        out.textContent = "approved (audited)";
      });
    }
  }

  async function transparency() {
    const r = await call("GET", "/v1/transparency");
    if (r.status !== 200) return show(`<section class="card"><h2>Transparency report</h2><p role="alert" class="bad">${esc(errorText(r))}</p></section>`);
    const q = r.data.requests.map(x => `<tr><td>${esc(x.unit)}</td><td>${esc(x.category)}</td><td>${esc(x.decision)}</td><td>${x.count}</td></tr>`).join("");
    const w = Object.entries(r.data.warrants).map(([k, v]) => `<li>${esc(k)}: ${v}</li>`).join("");
    const a = r.data.alerts.map(x => `<li>${esc(x.severity)}: ${x.raised} raised, ${x.confirmed_abuse} confirmed as abuse</li>`).join("");
    show(`<section class="card"><h2>Transparency report</h2><p><button type="button" id="csv" class="secondary">Download CSV</button> <button type="button" id="html" class="secondary">Download HTML</button></p>
      <h3>Warrants</h3><ul>${w || "<li>none</li>"}</ul><h3>Alerts</h3><ul>${a || "<li>none</li>"}</ul>
      <h3>Requests by unit, category and decision</h3><table><thead><tr><th>Unit</th><th>Category</th><th>Decision</th><th>Requests</th></tr></thead><tbody>${q}</tbody></table></section>`);
    for (const [id, type] of [["csv", "text/csv"], ["html", "text/html"]]) document.getElementById(id).addEventListener("click", async () => {
      const res = await call("GET", `/v1/transparency?format=${id}`);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([res.data], { type }));
      a.download = `transparency.${id}`;
      a.click();
    });
  }

  async function route() {
    if (!me) return;
    const h = decodeURIComponent(location.hash.slice(1)) || "alerts";
    for (const a of document.querySelectorAll("nav a")) a.toggleAttribute("aria-current", a.getAttribute("href") === "#" + h.split("/")[0]);
    for (const a of document.querySelectorAll("nav a[aria-current]")) a.setAttribute("aria-current", "page");
    if (h.startsWith("officer/")) return officer(h.slice(8));
    const views = { alerts, cases, log, leaks, breakglass, approvals, transparency };
    return (views[h] || alerts)();
  }

  document.getElementById("signin-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    if (await signIn(document.getElementById("token").value.trim())) route();
  });
  document.getElementById("signout").addEventListener("click", () => { sessionStorage.removeItem(KEY); location.hash = ""; location.reload(); });
  window.addEventListener("hashchange", route);
  const saved = sessionStorage.getItem(KEY);
  if (saved) signIn(saved).then(ok => ok && route());
})();
