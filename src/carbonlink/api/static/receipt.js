// The receipt check in the browser: the downloaded file's SHA-256 against the ledger entry, the
// entry's inclusion proof up to the checkpoint's root (RFC 9162 §2.1.3.2) and the checkpoint's
// Ed25519 signature (c2sp.org/signed-note), all with WebCrypto on the bytes received here.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("receipt-data").textContent);
  var steps = document.getElementById("browser-steps");
  var result = document.getElementById("browser-result");
  var button = document.getElementById("run-browser-check");
  var subtle = window.crypto && window.crypto.subtle;

  function bytes(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function concat() {
    var parts = Array.prototype.slice.call(arguments), n = 0, at = 0;
    parts.forEach(function (p) { n += p.length; });
    var out = new Uint8Array(n);
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function hex(u8) { return Array.prototype.map.call(u8, function (b) { return ("0" + b.toString(16)).slice(-2); }).join(""); }
  function same(a, b) { if (a.length !== b.length) return false; for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; return true; }
  function sha256(u8) { return subtle.digest("SHA-256", u8).then(function (d) { return new Uint8Array(d); }); }
  var utf8 = new TextEncoder();

  function fileStep(entry) {
    return fetch(data.file_url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.arrayBuffer(); })
      .then(function (buf) { return sha256(new Uint8Array(buf)); })
      .then(function (digest) {
        var expected = entry.kind === "footprint" ? entry.document_sha256 : (entry.files || {})[data.name];
        var actual = hex(digest);
        return { ok: !!expected && actual === expected, detail: actual + (expected && actual !== expected ? " ≠ " + expected : "") };
      });
  }

  function proofStep(entryBytes, root) {
    return sha256(concat(new Uint8Array([0]), entryBytes)).then(function (leaf) {
      var fn = data.index, sn = data.size - 1, r = leaf, proof = data.proof.map(bytes);
      var chain = Promise.resolve(true);
      proof.forEach(function (p) {
        chain = chain.then(function (alive) {
          if (!alive || sn === 0) return false;
          var left;
          if ((fn & 1) === 1 || fn === sn) {
            left = true;
            if ((fn & 1) === 0) { while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; } }
          } else {
            left = false;
          }
          fn >>= 1; sn >>= 1;
          return sha256(left ? concat(new Uint8Array([1]), p, r) : concat(new Uint8Array([1]), r, p))
            .then(function (h) { r = h; return true; });
        });
      });
      return chain.then(function (alive) {
        return { ok: alive && sn === 0 && same(r, root), detail: btoa(String.fromCharCode.apply(null, r)) };
      });
    });
  }

  function signatureStep(text, signatures) {
    var parts = data.vkey.trim().split("+");
    var name = parts[0], keyId = parts[1], raw = bytes(parts.slice(2).join("+"));
    if (raw.length !== 33 || raw[0] !== 1) return Promise.resolve({ ok: false, detail: "vkey" });
    var key = raw.slice(1);
    var line = signatures.filter(function (l) { return l.indexOf("— " + name + " ") === 0; })
      .map(function (l) { return bytes(l.slice(("— " + name + " ").length)); })
      .filter(function (s) { return hex(s.slice(0, 4)) === keyId.toLowerCase(); })[0];
    if (!line) return Promise.resolve({ ok: false, detail: name });
    return sha256(concat(utf8.encode(name + "\n"), new Uint8Array([1]), key)).then(function (id) {
      if (hex(id.slice(0, 4)) !== keyId.toLowerCase()) return { ok: false, detail: "key ID" };
      return subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"])
        .then(function (k) { return subtle.verify({ name: "Ed25519" }, k, line.slice(4), utf8.encode(text)); })
        .then(function (ok) { return { ok: ok, detail: name + "+" + keyId }; });
    });
  }

  function show(label, outcome) {
    var li = document.createElement("li");
    li.className = outcome.ok ? "ok" : "fail";
    li.textContent = label + " — " + (outcome.ok ? steps.dataset.passed : steps.dataset.failed);
    var small = document.createElement("div");
    small.className = "mono small wrap";
    small.textContent = outcome.detail || "";
    li.appendChild(small);
    steps.appendChild(li);
    return outcome.ok;
  }

  function run() {
    steps.textContent = ""; result.textContent = ""; result.className = "";
    button.disabled = true;
    var entryBytes = bytes(data.entry);
    var entry = JSON.parse(new TextDecoder().decode(entryBytes));
    var cut = data.note.indexOf("\n\n");
    var text = data.note.slice(0, cut + 1);
    var signatures = data.note.slice(cut + 2).split("\n").filter(Boolean);
    var lines = text.split("\n");
    var root = bytes(lines[2]);
    var sizeOk = lines[1] === String(data.size);
    var outcomes = [];
    fileStep(entry)
      .then(function (o) { outcomes.push(show(steps.dataset.file, o)); return proofStep(entryBytes, root); })
      .then(function (o) { o.ok = o.ok && sizeOk; outcomes.push(show(steps.dataset.proof, o)); return signatureStep(text, signatures); })
      .then(function (o) { outcomes.push(show(steps.dataset.signature, o)); })
      .catch(function (e) { outcomes.push(show(String(e), { ok: false })); })
      .then(function () {
        var ok = outcomes.length === 3 && outcomes.every(Boolean);
        result.className = ok ? "ok" : "fail";
        result.textContent = ok ? "✓ " + steps.dataset.passed : "✗ " + steps.dataset.failed;
        result.dataset.outcome = ok ? "passed" : "failed";
        button.disabled = false;
      });
  }
  if (!subtle) { result.textContent = "WebCrypto unavailable (HTTPS or localhost needed)"; button.disabled = true; return; }
  button.addEventListener("click", run);
})();
