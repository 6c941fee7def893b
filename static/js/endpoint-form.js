// The endpoint form: add/remove model rows, custom-model toggle, key filtering
// by provider, catalog look-ups through htmx (models of a provider, filtered by
// the row's search box), the provider list of the chosen endpoint type, and a
// live check of the weights.
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
    row.querySelector(".js-model-search").disabled = !provider; // nothing to search before a provider
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

  function refreshModels(row, always = false) {
    if (!isCustom(row) && (always || row.querySelector(".js-provider").value)) {
      htmx.trigger(row.querySelector(".js-provider"), "change", { refresh: true });
    }
  }

  // Only providers that serve the endpoint type are listed (the server decides,
  // and refuses the others on save). A row keeps its provider when the new type
  // still lists it; otherwise the provider is cleared and the row says why.
  let providersRequest = 0;
  async function refreshProviders() {
    const request = ++providersRequest;
    const url = `${form.dataset.providersUrl}?endpoint_type=${encodeURIComponent(typeSelect.value)}`;
    let html;
    try {
      const response = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
      if (!response.ok) return;
      html = await response.text();
    } catch (error) {
      return; // offline: the old list stays, and the server still checks on save
    }
    if (request !== providersRequest) return; // the type changed again meanwhile
    const typeName = typeSelect.selectedOptions[0].textContent.trim().toLowerCase();
    template.content.querySelector(".js-provider").innerHTML = html;
    for (const row of visibleRows()) {
      const select = row.querySelector(".js-provider");
      const before = select.value;
      const name = before ? select.selectedOptions[0].textContent : "";
      select.innerHTML = html;
      select.value = before;
      const kept = select.value === before;
      if (!kept) select.value = "";
      const note = row.querySelector(".js-provider-note");
      note.textContent = kept ? "" : `${name} does not serve ${typeName} endpoints, so it was cleared. Choose another provider.`;
      note.hidden = kept;
      filterKeys(row);
      refreshModels(row, !kept);
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
    if (kind === "models") {
      const search = row.querySelector(".js-model-search");
      // A new provider (or endpoint type) starts a new search.
      if (elt.matches(".js-provider")) search.value = "";
      params.q = search.value;
      params.selected = row.querySelector(".js-model").value;
    } else {
      params.model_name = row.querySelector(".js-model").value;
    }
  });

  // In the search box, Enter or the down arrow moves to the results instead of
  // submitting the form.
  form.addEventListener("keydown", (event) => {
    if (!event.target.matches(".js-model-search")) return;
    if (event.key === "Enter" || event.key === "ArrowDown") {
      event.preventDefault();
      event.target.closest(".model-row").querySelector(".js-model").focus();
    }
  });

  form.addEventListener("click", (event) => {
    if (event.target.closest("[data-add-row]")) addRow();
    const remove = event.target.closest("[data-remove-row]");
    if (remove) removeRow(remove.closest(".model-row"));
  });

  form.addEventListener("change", (event) => {
    const row = event.target.closest(".model-row");
    if (event.target === typeSelect) refreshProviders();
    if (!row) return;
    if (event.target.matches(".js-provider")) {
      // The user picked a provider (a refresh from this script says so in its detail).
      if (!(event.detail && event.detail.refresh)) row.querySelector(".js-provider-note").hidden = true;
      filterKeys(row);
    }
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
