// Import a file of readings: upload it, map its columns, preview the first rows as they will be
// stored, start the import and follow its progress. Every step is a call to /api/v1/imports.
(function () {
  "use strict";
  var send = window.carbonlinkSend, explain = window.carbonlinkExplain;
  var meta = document.querySelector("meta[name=csrf-token]");
  var csrf = meta ? meta.content : "";

  function show(form, text) {
    var box = form.querySelector(".form-error");
    if (box) { box.textContent = text; box.hidden = !text; }
  }
  function cell(tag, text, cls) {
    var node = document.createElement(tag);
    node.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) node.className = cls;
    return node;
  }

  // upload ------------------------------------------------------------------------------------
  var upload = document.getElementById("upload-form");
  if (upload) {
    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(upload);
      var button = upload.querySelector("[type=submit]");
      button.disabled = true;
      fetch(upload.dataset.upload, {
        method: "POST", credentials: "same-origin", body: data,
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw body;
          window.location.assign("/data/import/" + encodeURIComponent(body.id));
        });
      }).catch(function (problem) {
        show(upload, explain ? explain(problem || {}) : String(problem));
        button.disabled = false;
      });
    });
  }

  var source = document.getElementById("import-data");
  if (!source) return;
  var page = JSON.parse(source.textContent);
  var base = "/api/v1/imports/" + encodeURIComponent(page.import_id);
  var labels = document.getElementById("import-labels").dataset;
  var kinds = {};
  Array.prototype.forEach.call(document.querySelectorAll("#kind-labels [data-kind]"), function (n) {
    kinds[n.dataset.kind] = n.textContent;
  });
  var form = document.getElementById("mapping-form");
  var header = [];

  function field(name) { return form.elements[name]; }
  function layout() { return form.querySelector("input[name=layout]:checked").value; }

  function fillColumns(answer) {
    header = answer.header || [];
    var sample = document.getElementById("sample");
    var head = sample.tHead, body = sample.tBodies[0];
    head.textContent = ""; body.textContent = "";
    var row = head.insertRow();
    header.forEach(function (name) { row.appendChild(cell("th", name)); });
    (answer.sample || []).forEach(function (values) {
      var tr = body.insertRow();
      values.forEach(function (v) { tr.appendChild(cell("td", v, "small")); });
    });
    Array.prototype.forEach.call(form.querySelectorAll("select.column-choice"), function (select) {
      var previous = select.value;
      select.textContent = "";
      if (select.dataset.optional) select.appendChild(new Option("—", ""));
      header.forEach(function (name) { select.appendChild(new Option(name, name)); });
      if (header.indexOf(previous) >= 0) select.value = previous;
    });
    // a first guess by position: time, meter, value, unit (the usual export order)
    if (!field("time_column").dataset.touched && header.length) {
      field("time_column").value = header[0];
      if (header.length > 1) field("meter_column").value = header[1];
      if (header.length > 2) field("value_column").value = header[2];
      if (header.length > 3) field("unit_column").value = header[3];
    }
    fillWide();
  }

  function fillWide() {
    var body = document.querySelector("#wide-columns tbody");
    body.textContent = "";
    header.forEach(function (name, index) {
      if (name === field("time_column").value) return;
      var tr = body.insertRow();
      tr.appendChild(cell("td", name));
      var select = document.createElement("select");
      select.name = "meter-of-" + index;
      select.setAttribute("aria-label", name);
      select.appendChild(new Option(labels.skip, ""));
      page.meters.forEach(function (m) { select.appendChild(new Option(m.name + " (" + m.unit + ")", m.id)); });
      var unit = document.createElement("input");
      unit.type = "text"; unit.name = "unit-of-" + index; unit.maxLength = 32;
      unit.setAttribute("aria-label", name);
      select.addEventListener("change", function () {
        var meter = page.meters.filter(function (m) { return m.id === select.value; })[0];
        if (meter && !unit.value) unit.value = meter.unit;
      });
      var td = document.createElement("td"); td.appendChild(select); tr.appendChild(td);
      td = document.createElement("td"); td.appendChild(unit); tr.appendChild(td);
    });
  }

  function mapping() {
    var body = {
      layout: layout(),
      time_column: field("time_column").value,
      time_format: field("time_format").value.trim() || null,
      day_first: field("day_first").checked,
      time_zone: field("time_zone").value.trim(),
      labelling: field("labelling").value,
      midnight_is_end_of_day: field("midnight_is_end_of_day").checked,
      decimal_comma: field("decimal_comma").checked,
      delimiter: field("delimiter").value,
      encoding: field("encoding").value,
      header_row: parseInt(field("header_row").value, 10) || 1,
      sheet: field("sheet") ? (field("sheet").value.trim() || null) : null
    };
    if (body.layout === "long") {
      body.meter_column = field("meter_column").value;
      body.value_column = field("value_column").value;
      body.unit_column = field("unit_column").value || null;
      body.unit = field("unit").value.trim() || null;
    } else {
      body.columns = [];
      header.forEach(function (name, index) {
        var meter = form.elements["meter-of-" + index];
        if (meter && meter.value) {
          body.columns.push({ column: name, meter_id: meter.value, unit: form.elements["unit-of-" + index].value.trim() });
        }
      });
    }
    return body;
  }

  function readColumns() {
    var body = mapping();
    return send(base + "/columns", "POST", body).then(fillColumns).catch(function (p) { show(form, explain(p || {})); });
  }

  function preview() {
    show(form, "");
    var body = mapping();
    if (body.layout === "wide" && !body.columns.length) { show(form, labels.choose); return; }
    send(base + "/preview", "POST", body).then(function (answer) {
      var section = document.getElementById("preview");
      section.hidden = false;
      var rows = document.querySelector("#preview-rows tbody");
      rows.textContent = "";
      answer.rows.forEach(function (r) {
        var tr = rows.insertRow();
        tr.appendChild(cell("td", r.meter_id));
        tr.appendChild(cell("td", r.ts.replace("T", " ").replace("Z", " UTC"), "mono small"));
        tr.appendChild(cell("td", r.value, "num"));
        tr.appendChild(cell("td", r.unit));
      });
      if (!answer.rows.length) {
        var empty = rows.insertRow(); var td = cell("td", labels.nothing, "empty-inline"); td.colSpan = 4; empty.appendChild(td);
      }
      var rejected = document.querySelector("#preview-rejected tbody");
      rejected.textContent = "";
      answer.rejected.forEach(function (r) {
        var tr = rejected.insertRow();
        tr.appendChild(cell("td", r.line, "num"));
        var reason = cell("td", kinds[r.kind] || r.kind);
        reason.appendChild(document.createElement("br"));
        reason.appendChild(cell("span", r.reason, "small"));
        tr.appendChild(reason);
        tr.appendChild(cell("td", r.raw, "mono small"));
      });
      section.scrollIntoView();
    }).catch(function (p) { show(form, explain(p || {})); });
  }

  function follow() {
    var bar = document.getElementById("import-progress");
    var text = document.getElementById("progress-text");
    document.getElementById("progress").hidden = false;
    var timer = window.setInterval(function () {
      send(base, "GET").then(function (state) {
        bar.max = state.rows_total || 1;
        bar.value = state.rows_done;
        text.textContent = state.rows_done + " / " + (state.rows_total || "?") + " " + labels.rows;
        if (state.status === "finished" || state.status === "failed") {
          window.clearInterval(timer);
          window.location.reload();
        }
      });
    }, 400);
  }

  function run() {
    show(form, "");
    var body = mapping();
    if (body.layout === "wide" && !body.columns.length) { show(form, labels.choose); return; }
    document.getElementById("run-button").disabled = true;
    send(base + "/run", "POST", body).then(follow).catch(function (p) {
      show(form, explain(p || {}));
      document.getElementById("run-button").disabled = false;
    });
  }

  if (form) {
    Array.prototype.forEach.call(form.querySelectorAll("input[name=layout]"), function (radio) {
      radio.addEventListener("change", function () {
        document.getElementById("long-fields").hidden = layout() !== "long";
        document.getElementById("wide-fields").hidden = layout() !== "wide";
      });
    });
    field("time_column").addEventListener("change", function () { field("time_column").dataset.touched = "1"; fillWide(); });
    document.getElementById("reread").addEventListener("click", readColumns);
    document.getElementById("preview-button").addEventListener("click", preview);
    document.getElementById("run-button").addEventListener("click", run);
    readColumns();
  } else if (page.status === "running") {
    follow();
  }
})();
