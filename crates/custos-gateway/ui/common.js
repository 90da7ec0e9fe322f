"use strict";
// Shared helpers: API calls with the session's bearer token, safe HTML, SVG, and the
// client-side checks of inclusion proofs and signed checkpoints (RFC 9162, C2SP signed-note).

const Custos = (() => {
  const NS = "http://www.w3.org/2000/svg";
  function esc(t) { const d = document.createElement("div"); d.textContent = t == null ? "" : String(t); return d.innerHTML; }
  function el(tag, attrs, parent, text) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  async function api(key, method, path, body, contentType) {
    const headers = {};
    const token = sessionStorage.getItem(key);
    if (token) headers["Authorization"] = "Bearer " + token;
    let payload;
    if (body !== undefined && body !== null) {
      if (contentType) { headers["Content-Type"] = contentType; payload = body; }
      else { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    }
    const r = await fetch(path, { method, headers, body: payload });
    const text = await r.text();
    let data = null;
    try { data = JSON.parse(text); } catch (_) { data = text; }
    return { status: r.status, data };
  }
  function errorText(res) {
    const e = res.data && res.data.error;
    return e ? `${res.status} ${e.code}: ${e.message}` : `HTTP ${res.status}`;
  }
  function b64(s) { return Uint8Array.from(atob(s), c => c.charCodeAt(0)); }
  async function sha256(...parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const buf = new Uint8Array(n); let o = 0;
    for (const p of parts) { buf.set(p, o); o += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  }
  function equal(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }
  // RFC 9162 section 2.1.3.2, with arithmetic safe beyond 32 bits.
  async function verifyInclusion(index, size, leaf, proof, root) {
    if (index >= size) return false;
    let fn = index, sn = size - 1, r = leaf;
    const one = Uint8Array.of(1);
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(one, p, r);
        if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
      } else {
        r = await sha256(one, r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }
  // A checkpoint note: origin, size, root; then signature lines. Returns the parsed body and
  // whether the log key's Ed25519 signature verifies (null if this browser cannot check it).
  async function checkCheckpoint(note, keyText) {
    const cut = note.indexOf("\n\n");
    if (cut < 0) throw new Error("not a signed note");
    const body = note.slice(0, cut + 1);
    const [origin, size, root] = body.split("\n");
    // name+hash+key: the key's base64 may itself contain '+', so split at the first two only.
    const a = keyText.indexOf("+"), b = keyText.indexOf("+", a + 1);
    if (a < 0 || b < 0) throw new Error("malformed verifier key");
    const name = keyText.slice(0, a), hash = keyText.slice(a + 1, b), key = keyText.slice(b + 1);
    const keyBytes = b64(key);
    let signed = false;
    for (const line of note.slice(cut + 2).split("\n")) {
      if (!line.startsWith("\u2014 " + name + " ")) continue;
      const sig = b64(line.slice(name.length + 3));
      const id = Array.from(sig.slice(0, 4)).map(b => b.toString(16).padStart(2, "0")).join("");
      if (id !== hash || keyBytes[0] !== 1) continue;
      try {
        const k = await crypto.subtle.importKey("raw", keyBytes.slice(1), { name: "Ed25519" }, false, ["verify"]);
        signed = await crypto.subtle.verify({ name: "Ed25519" }, k, sig.slice(4), new TextEncoder().encode(body));
      } catch (_) { signed = null; }
      break;
    }
    return { origin, size: Number(size), root: b64(root), signed };
  }
  return { esc, el, api, errorText, b64, sha256, verifyInclusion, checkCheckpoint, NS };
})();
