// Forms of the web app that send JSON to the API under /api/v1 with the page's CSRF token:
// alert rules and channels, acknowledgements, targets, report jobs. Problems (RFC 9457) are
// shown in the form's role="alert" box, in the words of the API.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";

  function send(method, url, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      if (response.status === 204) return { ok: true, data: null, response: response };
      return response.json().then(function (data) {
        return { ok: response.ok, data: data, response: response };
      }, function () { return { ok: response.ok, data: null, response: response }; });
    });
  }

  function problemText(data, response) {
    if (!data) return response.status + " " + response.statusText;
    var parts = [data.detail || data.title || response.status];
    if (data.hint) parts.push(data.hint);
    (data.errors || []).forEach(function (e) {
      parts.push((e.loc || []).slice(1).join(".") + ": " + e.msg);
    });
    return parts.join(" — ");
  }

  function show(form, text) {
    var box = form.querySelector("[role=alert]");
    if (!box) return window.alert(text);
    box.textContent = text;
    box.hidden = !text;
  }

  function body(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.name === "csrf_token" || field.hasAttribute("data-path")) return;
      if (field.disabled || field.type === "submit" || field.type === "button") return;
      var value = field.value;
      if (field.type === "checkbox") { out[field.name] = field.checked; return; }
      if (field.type === "radio") { if (field.checked) out[field.name] = value; return; }
      if (value === "" && (field.hasAttribute("data-optional") || field.type === "number")) return;
      if (field.hasAttribute("data-list")) {
        var separator = field.getAttribute("data-list");
        out[field.name] = value.split(separator ? separator : /[\s,;]+/).filter(function (x) { return x; });
        return;
      }
      if (field.type === "number") {
        var scale = Number(field.getAttribute("data-scale") || 1);
        value = Number(value) * scale;
        if (field.hasAttribute("data-integer")) value = Math.round(value);
      }
      out[field.name] = value;
    });
    return out;
  }

  function target(form) {
    var template = form.getAttribute("data-api");
    var blank = false;
    var url = template.replace(/\{(\w+)\}/g, function (_, name) {
      var field = form.elements[name];
      var value = field ? field.value : "";
      if (!value) blank = true;
      return encodeURIComponent(value);
    });
    if (blank && form.getAttribute("data-api-new")) {
      return { method: "POST", url: form.getAttribute("data-api-new") };
    }
    return { method: form.getAttribute("data-method") || "POST", url: url };
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-api")) return;
    event.preventDefault();
    var to = target(form);
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    show(form, "");
    send(to.method, to.url, body(form)).then(function (answer) {
      if (button) button.disabled = false;
      if (!answer.ok) { show(form, problemText(answer.data, answer.response)); return; }
      var next = form.getAttribute("data-next");
      if (form.hasAttribute("data-then")) {
        document.dispatchEvent(new CustomEvent(form.getAttribute("data-then"), { detail: answer.data }));
        return;
      }
      window.location.assign(next || window.location.pathname);
    }, function (error) {
      if (button) button.disabled = false;
      show(form, String(error));
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-api-delete],[data-fill],[data-api-post]") : null;
    if (!button) return;
    if (button.hasAttribute("data-fill")) {
      var form = document.getElementById(button.getAttribute("data-fill"));
      var values = JSON.parse(button.getAttribute("data-values"));
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name || field.name === "csrf_token") return;
        var value = Object.prototype.hasOwnProperty.call(values, field.name) ? values[field.name] : "";
        if (field.type === "checkbox") { field.checked = value === "" ? field.defaultChecked : !!value; return; }
        if (value === null || value === undefined) value = "";
        var scale = Number(field.getAttribute("data-scale") || 1);
        if (field.type === "number" && value !== "" && scale !== 1) value = Number(value) / scale;
        field.value = Array.isArray(value) ? value.join(", ") : value;
      });
      form.scrollIntoView({ block: "start" });
      var first = form.querySelector("input:not([type=hidden]),select");
      if (first) first.focus();
      return;
    }
    var question = button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) return;
    var method = button.hasAttribute("data-api-delete") ? "DELETE" : "POST";
    var url = button.getAttribute(method === "DELETE" ? "data-api-delete" : "data-api-post");
    button.disabled = true;
    send(method, url).then(function (answer) {
      button.disabled = false;
      var box = button.closest("section") ? button.closest("section").querySelector("[role=alert]") : null;
      if (!answer.ok) {
        var text = problemText(answer.data, answer.response);
        if (box) { box.textContent = text; box.hidden = false; } else { window.alert(text); }
        return;
      }
      if (button.hasAttribute("data-done")) {
        if (box) { box.textContent = button.getAttribute("data-done"); box.hidden = false; }
        return;
      }
      window.location.reload();
    });
  });
})();

// A report job started from the reports page: its progress is polled until it ends.
(function () {
  "use strict";
  document.addEventListener("report-job-started", function (event) {
    var job = event.detail;
    var bar = document.getElementById("job-progress");
    var said = document.getElementById("job-step");
    var box = document.getElementById("job-running");
    if (box) box.hidden = false;
    function poll() {
      fetch("/api/v1/report-jobs/" + job.id, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (now) {
          if (bar) { bar.value = now.progress; bar.textContent = now.progress + " %"; }
          if (said) said.textContent = now.step || now.status;
          if (now.status === "done" || now.status === "failed") {
            window.location.assign(window.location.pathname + "#job-" + now.id);
            window.location.reload();
            return;
          }
          window.setTimeout(poll, 400);
        });
    }
    poll();
  });
})();
