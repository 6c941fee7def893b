// The endpoint form: add/remove model rows, custom-model toggle, key filtering
// by provider, catalog look-ups through htmx, and a live check of the weights.
(function () {
  "use strict";

  const form = document.querySelector("[data-endpoint-form]");
  if (!form) return;
  const rowsBox = form.querySelector("#model-rows");
  const template = document.getElementById("model-row-template");
  const total = form.querySelector('input[name="models-TOTAL_FORMS"]');
  const typeSelect = form.querySelector('[name="endpoint_type"]');
  const summary = form.querySelector("#weight-summary");
  const TOLERANCE = 1e-6;

  const visibleRows = () => Array.from(rowsBox.querySelectorAll(".model-row")).filter((row) => !row.hidden);
  const isCustom = (row) => row.querySelector(".js-custom").checked;

  function renumber() {
    const rows = visibleRows();
    rows.forEach((row, index) => {
      row.querySelector("[data-row-number]").textContent = String(index + 1);
      row.querySelector("[data-remove-row]").disabled = rows.length === 1;
    });
  }

  function toggleCustom(row) {
    const custom = isCustom(row);
    row.querySelectorAll(".js-catalog-fields").forEach((el) => { el.hidden = custom; });
    row.querySelectorAll(".js-custom-fields").forEach((el) => { el.hidden = !custom; });
  }

  // Only keys of the row's provider can serve it; the server checks again.
  function filterKeys(row) {
    const provider = row.querySelector(".js-provider").value;
    const select = row.querySelector(".js-key");
    let usable = 0;
    for (const option of select.options) {
      if (!option.value) continue;
      const match = option.dataset.provider === provider;
      option.hidden = !match;
      option.disabled = !match;
      if (match) usable += 1;
    }
    if (select.selectedOptions.length && select.selectedOptions[0].disabled) select.value = "";
    if (!select.value) {
      const first = Array.from(select.options).find((option) => option.value && !option.disabled);
      if (first) select.value = first.value;
    }
    const hint = row.querySelector(".js-no-key");
    hint.hidden = usable > 0 || !provider;
    const selectedProvider = row.querySelector(".js-provider").selectedOptions[0];
    hint.querySelector("[data-provider-name]").textContent = selectedProvider ? selectedProvider.textContent : provider;
  }

  function refreshModels(row) {
    if (!isCustom(row) && row.querySelector(".js-provider").value) {
      htmx.trigger(row.querySelector(".js-provider"), "change");
    }
  }

  function addRow() {
    const index = Number(total.value);
    rowsBox.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    const row = rowsBox.lastElementChild;
    const previous = visibleRows().slice(-2, -1)[0];
    htmx.process(row);
    if (previous) {
      row.querySelector(".js-provider").value = previous.querySelector(".js-provider").value;
      row.querySelector(".js-priority").value = previous.querySelector(".js-priority").value || "1";
    }
    filterKeys(row);
    refreshModels(row);
    renumber();
    updateWeights();
    row.querySelector(".js-provider").focus();
  }

  function removeRow(row) {
    row.querySelector(".js-delete").checked = true;
    row.hidden = true;
    renumber();
    updateWeights();
  }

  const format = (value) => String(Math.round(value * 1e6) / 1e6);

  // Mirrors the rule the server enforces, so the user sees it before saving.
  function updateWeights() {
    const groups = new Map();
    for (const row of visibleRows()) {
      const priority = parseInt(row.querySelector(".js-priority").value, 10) || 1;
      const raw = row.querySelector(".js-weight").value.trim();
      if (!groups.has(priority)) groups.set(priority, []);
      groups.get(priority).push({ row, weight: raw === "" ? null : Number(raw) });
    }
    summary.replaceChildren();
    for (const priority of Array.from(groups.keys()).sort((a, b) => a - b)) {
      const group = groups.get(priority);
      const item = document.createElement("li");
      let ok = true;
      if (group.length === 1 && (group[0].weight === null || Math.abs(group[0].weight - 1) <= TOLERANCE)) {
        item.textContent = `Priority ${priority}: one model, all of its traffic ✓`;
      } else if (group.some((entry) => entry.weight === null || Number.isNaN(entry.weight))) {
        ok = false;
        item.textContent = `Priority ${priority}: give every model a weight (they share the traffic)`;
      } else {
        const sum = group.reduce((acc, entry) => acc + entry.weight, 0);
        ok = Math.abs(sum - 1) <= TOLERANCE;
        const total = Number.isInteger(sum) ? sum.toFixed(1) : format(sum);
        item.textContent = `Priority ${priority}: ${group.map((entry) => format(entry.weight)).join(" + ")} = ${total} ${ok ? "✓" : "✗ must add up to 1.0"}`;
      }
      item.className = ok ? "ok" : "bad";
      group.forEach((entry) => entry.row.classList.toggle("weights-bad", !ok));
      summary.appendChild(item);
    }
  }

  // The catalog fragments need the row's provider, the endpoint type and the row index.
  document.body.addEventListener("htmx:configRequest", (event) => {
    const elt = event.detail.elt;
    const kind = elt.dataset ? elt.dataset.catalog : undefined;
    if (!kind) return;
    const row = elt.closest(".model-row");
    const params = event.detail.parameters;
    params.provider = row.querySelector(".js-provider").value;
    params.endpoint_type = typeSelect.value;
    params.row = row.dataset.index;
    if (kind === "models") params.selected = row.querySelector(".js-model").value;
    else params.model_name = row.querySelector(".js-model").value;
  });

  form.addEventListener("click", (event) => {
    if (event.target.closest("[data-add-row]")) addRow();
    const remove = event.target.closest("[data-remove-row]");
    if (remove) removeRow(remove.closest(".model-row"));
  });

  form.addEventListener("change", (event) => {
    const row = event.target.closest(".model-row");
    if (event.target === typeSelect) visibleRows().forEach(refreshModels);
    if (!row) return;
    if (event.target.matches(".js-provider")) filterKeys(row);
    if (event.target.matches(".js-custom")) {
      toggleCustom(row);
      if (!isCustom(row)) refreshModels(row);
    }
  });

  form.addEventListener("input", (event) => {
    if (event.target.matches(".js-weight, .js-priority")) updateWeights();
  });

  // Bring the server-rendered rows in line with their provider and toggle.
  visibleRows().forEach((row) => { filterKeys(row); toggleCustom(row); });
  renumber();
  updateWeights();
})();
