// Forms sent as JSON to the service's API (form[data-api]): the page's CSRF token in the header,
// the API's refusal shown beside the form, the next page opened on success.
//   data-api="/api/v1/meters/{meter}/source"  URL; {name} is filled from a field marked data-path
//   data-method="PUT"                          HTTP method (POST when absent)
//   data-next="/setup/facilities/{id}"         page to open after success; {id} from the answer
//   data-multipart                             the whole form, files included, as multipart/form-data
// Fields: name="factor.unit" nests; data-type="number"|"int" converts; an empty field is null,
// and a nested object whose fields are all empty is null.
(function () {
  "use strict";
  var meta = document.querySelector("meta[name=csrf-token]");
  var csrf = meta ? meta.content : "";

  function put(target, path, value) {
    var keys = path.split(".");
    for (var i = 0; i < keys.length - 1; i++) {
      target = target[keys[i]] = target[keys[i]] || {};
    }
    target[keys[keys.length - 1]] = value;
  }

  function nullEmpty(value) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    var empty = true;
    Object.keys(value).forEach(function (k) {
      value[k] = nullEmpty(value[k]);
      if (value[k] !== null) empty = false;
    });
    return empty ? null : value;
  }

  function collect(form) {
    var body = {}, path = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "file") return;
      var value;
      if (el.type === "checkbox") value = el.checked;
      else {
        value = el.value.trim();
        if (value === "") value = null;
        else if (el.dataset.type === "number") value = Number(value);
        else if (el.dataset.type === "int") value = parseInt(value, 10);
      }
      if (el.hasAttribute("data-path")) path[el.name] = value;
      else put(body, el.name, value);
    });
    Object.keys(body).forEach(function (k) { body[k] = nullEmpty(body[k]); });
    return { body: body, path: path };
  }

  function explain(problem) {
    var parts = [problem.detail || problem.title || String(problem.status)];
    (problem.errors || []).forEach(function (e) {
      var loc = (e.loc || []).filter(function (p) { return p !== "body"; }).join(".");
      parts.push((loc ? loc + ": " : "") + e.msg);
    });
    if (problem.hint) parts.push("— " + problem.hint);
    return parts.join(" ");
  }

  function show(form, text) {
    var box = form.querySelector(".form-error");
    if (!box) return;
    box.textContent = (box.dataset.prefix || form.dataset.errorPrefix || "") + text;
    box.hidden = false;
  }

  window.carbonlinkSend = function (url, method, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
        if (!response.ok) throw data || { status: response.status };
        return data;
      });
    });
  };
  window.carbonlinkExplain = explain;

  function sendForm(url, form) {
    var data = new FormData();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit") return;
      if (el.type === "file") { if (el.files.length) data.append(el.name, el.files[0]); return; }
      if (el.value.trim() !== "") data.append(el.name, el.value.trim());
    });
    return fetch(url, {
      method: form.dataset.method || "POST", credentials: "same-origin", body: data,
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (response) {
      return response.text().then(function (text) {
        var answer = null;
        try { answer = text ? JSON.parse(text) : null; } catch (e) { answer = { detail: text }; }
        if (!response.ok) throw answer || { status: response.status };
        return answer;
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-api]"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var sent = collect(form);
      var url = form.dataset.api.replace(/\{(\w+)\}/g, function (_m, name) {
        return encodeURIComponent(sent.path[name] || "");
      });
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      // an evidence file goes first to /api/v1/evidence; the form then names it by its SHA-256
      var file = form.querySelector("input[type=file][data-evidence]");
      var evidence = file && file.files.length ? fetch(file.dataset.evidence, {
        method: "POST", credentials: "same-origin", body: (function () { var d = new FormData(); d.append("file", file.files[0]); return d; })(),
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
      }).then(function (response) {
        return response.json().then(function (body) { if (!response.ok) throw body; return body.sha256; });
      }) : Promise.resolve(null);
      evidence.then(function (sha256) {
        if (sha256) sent.body.evidence_sha256 = sha256;
        if (form.hasAttribute("data-multipart")) return sendForm(url, form);
        return window.carbonlinkSend(url, form.dataset.method || "POST", sent.body);
      }).then(function (data) {
        var next = form.dataset.next;
        if (!next) { window.location.reload(); return; }
        var target = new URL(next.replace("{id}", encodeURIComponent((data && data.id) || "")), window.location.href);
        if (target.pathname !== window.location.pathname) { window.location.assign(target.href); return; }
        window.location.hash = target.hash;
        window.location.reload();
      }).catch(function (problem) {
        show(form, explain(problem || {}));
        if (button) button.disabled = false;
      });
    });
  });
})();
