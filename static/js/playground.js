// The endpoint page's playground: calls the proxy's OpenAI routes as the
// signed-in user, with a short-lived token of theirs (minted by the page's
// server on first use, kept in memory only), and shows the answer (streamed
// for chat and completions), the model that served it, attempts, latency,
// tokens and a link to the request in the log.
(function () {
  "use strict";

  const root = document.querySelector("[data-playground]");
  const form = root && root.querySelector(".pg-form");
  if (!form) return;

  const type = root.dataset.type;
  const result = root.querySelector(".pg-result");
  const output = root.querySelector(".pg-output");
  const errorBox = root.querySelector(".pg-error");
  const send = form.querySelector('button[type="submit"]');
  const stop = form.querySelector("[data-pg-stop]");
  let token = null;
  let tokenExpires = 0;
  let controller = null;

  function meta(name, value) {
    const cell = root.querySelector(`[data-pg="${name}"]`);
    cell.textContent = value;
    return cell;
  }

  async function getToken(fresh) {
    if (!fresh && token && Date.now() < tokenExpires - 60000) return token;
    const csrf = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    const response = await fetch(root.dataset.tokenUrl, {
      method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin",
    });
    if (!response.ok) {
      throw new Error(response.status === 403
        ? "You need USE on this endpoint to call it."
        : `Could not get a token for the playground (HTTP ${response.status}).`);
    }
    const body = await response.json();
    token = body.token;
    tokenExpires = Date.parse(body.expires_at);
    return token;
  }

  function body() {
    const data = new FormData(form);
    const prompt = String(data.get("prompt") || "");
    const request = { model: root.dataset.endpoint };
    const maxTokens = parseInt(data.get("max_tokens"), 10);
    const stream = data.get("stream") === "on";
    if (type === "chat") {
      Object.assign(request, { messages: [{ role: "user", content: prompt }] });
    } else if (type === "completion") {
      request.prompt = prompt;
    } else if (type === "rerank") {
      const documents = String(data.get("documents") || "").split("\n").map((line) => line.trim()).filter(Boolean);
      Object.assign(request, { query: prompt, documents });
    } else if (type === "search") {
      Object.assign(request, { query: prompt, max_results: 5 });
    } else if (type === "image_generation") {
      Object.assign(request, { prompt, n: 1 });
    } else {
      request.input = prompt;
    }
    if (type === "chat" || type === "completion") {
      if (maxTokens > 0) request.max_tokens = maxTokens;
      if (stream) Object.assign(request, { stream: true, stream_options: { include_usage: true } });
    }
    return request;
  }

  function call(request, bearer, signal) {
    return fetch(root.dataset.path, {
      method: "POST",
      headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
      body: JSON.stringify(request),
      signal,
    });
  }

  function showHeaders(response, started) {
    meta("model", response.headers.get("x-gateway-model") || "—");
    meta("attempts", response.headers.get("x-gateway-attempts") || "—");
    meta("latency", `${Math.round(performance.now() - started)} ms`);
    const requestId = response.headers.get("x-request-id");
    const cell = meta("request", "");
    if (requestId) {
      const link = document.createElement("a");
      link.href = `${root.dataset.logUrl}?request_id=${encodeURIComponent(requestId)}`;
      link.textContent = "Open in the request log";
      cell.append(link);
    } else {
      cell.textContent = "—";
    }
  }

  function showUsage(usage) {
    if (!usage) return;
    const prompt = usage.prompt_tokens ?? usage.input_tokens ?? 0;
    const completion = usage.completion_tokens ?? usage.output_tokens;
    meta("tokens", completion === undefined ? `${prompt} prompt` : `${prompt} prompt · ${completion} completion`);
  }

  function deltaText(chunk) {
    const choice = chunk.choices && chunk.choices[0];
    if (!choice) return "";
    return type === "chat" ? (choice.delta && choice.delta.content) || "" : choice.text || "";
  }

  // Server-sent events: "data: {...}" lines separated by blank lines, ending with "data: [DONE]".
  async function readStream(response, started) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let first = true;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const events = buffer.split("\n\n");
      buffer = events.pop();
      for (const event of events) {
        const data = event.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("");
        if (!data || data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message || "The stream ended with an error.");
        if (first) {
          meta("latency", `first token after ${Math.round(performance.now() - started)} ms`);
          first = false;
        }
        output.textContent += deltaText(chunk);
        showUsage(chunk.usage);
      }
    }
    const latency = root.querySelector('[data-pg="latency"]');
    latency.textContent = `${Math.round(performance.now() - started)} ms (${latency.textContent})`;
  }

  function showAnswer(data) {
    showUsage(data.usage || (data.meta && data.meta.billed_units));
    if (type === "chat") {
      output.textContent = data.choices[0].message.content || "";
    } else if (type === "completion") {
      output.textContent = data.choices[0].text || "";
    } else if (type === "search") {
      output.textContent = data.results.map((hit, index) => `${index + 1}. ${hit.title}\n   ${hit.url}\n   ${hit.snippet || ""}`).join("\n") || "No results.";
    } else if (type === "embedding") {
      const vector = data.data[0].embedding;
      output.textContent = `${vector.length} dimensions: [${vector.slice(0, 8).map((x) => x.toFixed(4)).join(", ")}, …]`;
    } else {
      output.textContent = JSON.stringify(data, null, 2);
    }
  }

  async function showError(response) {
    let message = `HTTP ${response.status}`;
    try {
      const data = await response.json();
      const error = data.error || data;
      message = `${response.status} ${error.type || ""}: ${error.message || JSON.stringify(data)}`;
    } catch (ignored) { /* not JSON: the status says enough */ }
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  async function run() {
    const request = body();
    const started = performance.now();
    controller = new AbortController();
    let response = await call(request, await getToken(false), controller.signal);
    if (response.status === 401) {
      // The token expired or was revoked on the tokens page: mint another once.
      response = await call(request, await getToken(true), controller.signal);
    }
    showHeaders(response, started);
    if (!response.ok) return showError(response);
    if (request.stream) return readStream(response, started);
    return showAnswer(await response.json());
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.hidden = false;
    errorBox.hidden = true;
    output.textContent = "";
    for (const name of ["model", "attempts", "latency", "tokens", "request"]) meta(name, "—");
    send.disabled = true;
    stop.hidden = false;
    try {
      await run();
    } catch (error) {
      if (error.name !== "AbortError") {
        errorBox.textContent = error.message;
        errorBox.hidden = false;
      }
    } finally {
      send.disabled = false;
      stop.hidden = true;
      controller = null;
    }
  });

  stop.addEventListener("click", () => controller && controller.abort());

  // The status badge is swapped by htmx as the endpoint starts and stops; the hint follows it.
  function followStatus() {
    const badge = document.querySelector("#endpoint-status [data-status]");
    form.querySelector("[data-pg-not-running]").hidden = !badge || badge.dataset.status === "running";
  }
  document.body.addEventListener("htmx:afterSettle", followStatus);
})();
