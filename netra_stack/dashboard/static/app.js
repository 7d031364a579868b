// The dashboard page: draws each snapshot the server sends (server-sent events), and asks for
// the actions with the token in a header. No framework, no CDN: it works offline.
"use strict";

const token = document.querySelector('meta[name="netra-token"]').content;
const colours = { HEALTHY: ["#d8f3dc", "#2d6a4f"], STARTING: ["#fff3bf", "#b08900"],
                  UNHEALTHY: ["#ffd8a8", "#d9480f"], STOPPED: ["#ffc9c9", "#c92a2a"], null: ["#e9ecef", "#495057"] };
let logStream = null;
const usage = {};  // environment -> {service: row}, while its usage stream is open
const usageStreams = {};

function mib(bytes) { return `${(bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0)} MiB`; }

function usageText(row) {
  if (!row) return "";
  const memory = row.limit ? `${mib(row.memory)} of ${mib(row.limit)} (${Math.round(100 * row.memory / row.limit)}%)`
                           : mib(row.memory);
  return `${memory} · CPU ${row.cpu}%${row.cpu_limit ? ` of ${row.cpu_limit * 100}%` : ""}`;
}

function toggleUsage(environment) {
  if (usageStreams[environment]) {
    usageStreams[environment].close();
    delete usageStreams[environment];
    delete usage[environment];
  } else {
    usage[environment] = {};
    const query = new URLSearchParams({ token, environment });
    usageStreams[environment] = new EventSource(`/api/usage?${query}`);
    usageStreams[environment].onmessage = (message) => {
      for (const row of JSON.parse(message.data)) {
        usage[environment][row.service] = row;
        const cell = document.querySelector(`article[data-env="${environment}"] tr[data-service="${row.service}"] td.usage`);
        if (cell) cell.textContent = usageText(row);
      }
    };
  }
  for (const cell of document.querySelectorAll(`article[data-env="${environment}"] td.usage`)) cell.hidden = !usage[environment];
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

function badge(state) {
  return el("span", { class: `badge ${state || ""}`, "data-state": state || "" }, state || "—");
}

async function act(body) {
  const answer = await fetch("/api/actions", {
    method: "POST", headers: { "Content-Type": "application/json", "X-Netra-Token": token },
    body: JSON.stringify(body),
  });
  if (!answer.ok) alert(`refused: ${await answer.text()}`);
}

// The stack's graph: what depends on nothing at the bottom, each dependent above what it needs.
function graph(picture) {
  const boxW = 150, boxH = 40, gapX = 24, gapY = 46, layers = picture.layers;
  const widest = Math.max(1, ...layers.map((layer) => layer.length));
  const width = widest * (boxW + gapX) + gapX, height = layers.length * (boxH + gapY) + gapY / 2;
  const at = {};
  layers.forEach((layer, level) => layer.forEach((service, place) => {
    const x = width / 2 + (place - (layer.length - 1) / 2) * (boxW + gapX);
    at[service] = [x, height - gapY / 2 - boxH / 2 - level * (boxH + gapY)];
  }));
  const drawing = svg("svg", { class: "graph", viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7",
                                 markerHeight: "7", orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#495057" }));
  defs.append(marker);
  drawing.append(defs);
  for (const edge of picture.edges) {
    const [x1, y1] = at[edge.service], [x2, y2] = at[edge.dependency];
    const colour = edge.holding ? "#c92a2a" : "#495057";
    drawing.append(svg("line", { x1, y1: y1 + boxH / 2, x2, y2: y2 - boxH / 2, stroke: colour,
                                 "stroke-width": edge.holding ? 2.5 : 1.2, "marker-end": "url(#arrow)" }));
    drawing.append(svg("text", { x: x1 + (x2 - x1) / 3 + 4, y: y1 + boxH / 2 + (y2 - y1 - boxH) / 3, fill: colour },
                       edge.condition));
  }
  for (const node of picture.nodes) {
    const [x, y] = at[node.service], [fill, stroke] = colours[node.state];
    const group = svg("g", { "data-service": node.service, "data-state": node.state || "" });
    group.append(svg("rect", { x: x - boxW / 2, y: y - boxH / 2, width: boxW, height: boxH, rx: node.one_shot ? 18 : 6,
                               fill, stroke, "stroke-width": node.holds_up.length ? 3 : 1.2 }));
    group.append(svg("text", { x, y: y - 3, "text-anchor": "middle", "font-weight": "700" }, node.service));
    const under = [node.one_shot ? "one-shot" : "", node.state && node.state !== "HEALTHY" ? node.state : "",
                   ...node.ports.slice(0, 1).map((p) => `:${p}`)].filter(Boolean);
    group.append(svg("text", { x, y: y + 12, "text-anchor": "middle", fill: "#343a40" }, under.join("  ")));
    drawing.append(group);
  }
  return drawing;
}

function openLog(environment, service) {
  if (logStream) logStream.close();
  const lines = document.getElementById("log-lines");
  lines.textContent = "";
  document.getElementById("log-title").textContent = `${environment} · ${service}`;
  document.getElementById("log").hidden = false;
  const query = new URLSearchParams({ token, environment, service });
  logStream = new EventSource(`/api/logs?${query}`);
  logStream.onmessage = (message) => {
    lines.append(JSON.parse(message.data) + "\n");
    while (lines.childNodes.length > 500) lines.removeChild(lines.firstChild);
    lines.scrollTop = lines.scrollHeight;
  };
}

function environmentCard(env) {
  const rows = env.services.map((s) => el("tr", { "data-service": s.service, "data-state": s.state },
    el("td", {}, el("strong", {}, s.service)),
    el("td", {}, badge(s.state)),
    el("td", { class: "detail" }, s.detail + (s.held_up_by.length ? ` — held up by ${s.held_up_by.join(", ")}` : "")),
    el("td", { class: "probe" }, s.health ? `${s.health}${s.last_probe ? `: ${s.last_probe}` : ""}` : "—"),
    el("td", { class: "usage", hidden: usage[env.name] ? null : "" }, usageText((usage[env.name] || {})[s.service])),
    el("td", {}, ...s.ports.map((p) => el("a", { href: `http://${p.host}:${p.port}/`, target: "_blank",
                                                  rel: "noopener" }, `${p.port}→${p.container} `))),
    el("td", {},
       el("button", { type: "button", class: "restart", onclick: () => act({ action: "restart", environment: env.name,
                                                                               service: s.service, profile: env.profile }) },
          "restart"), " ",
       el("button", { type: "button", class: "logs", onclick: () => openLog(env.name, s.service) }, "logs"))));
  return el("article", { class: "env", "data-env": env.name, "data-state": env.state },
    el("h2", {}, env.name, badge(env.state), el("span", { class: "meta" }, `${env.profile} · ${env.running} running`),
       el("button", { type: "button", class: "usage-toggle", onclick: () => toggleUsage(env.name) },
          usage[env.name] ? "hide usage" : "memory / CPU"),
       el("button", { type: "button", class: "danger down",
                      onclick: () => confirm(`down ${env.name}?`) && act({ action: "down", environment: env.name,
                                                                             profile: env.profile }) }, "down")),
    graph(env.picture),
    el("table", {}, el("thead", {}, el("tr", {}, ...["service", "state", "why", "last probe", "memory / CPU", "ports", ""].map(
      (title) => el("th", title === "memory / CPU" ? { class: "usage", hidden: usage[env.name] ? null : "" } : {}, title)))), el("tbody", {}, ...rows)));
}

function render(snapshot) {
  const engine = document.getElementById("engine");
  engine.hidden = !snapshot.engine;
  engine.textContent = snapshot.engine ? `${snapshot.engine} — trying again…` : "";
  const main = document.getElementById("environments");
  main.replaceChildren(...(snapshot.environments.length ? snapshot.environments.map(environmentCard)
    : [el("p", { class: "empty" }, snapshot.engine ? "" : "No netra-stack environment on this engine.")]));
  const select = document.getElementById("profile");
  const chosen = select.value;
  select.replaceChildren(...snapshot.profiles.map((name) => el("option", { value: name }, name)));
  if (snapshot.profiles.includes(chosen)) select.value = chosen;
  document.getElementById("actions").replaceChildren(...snapshot.actions.slice().reverse().map((a) =>
    el("div", { "data-action": a.id, "data-state": a.state }, `${a.what}: ${a.state}${a.output ? ` — ${a.output}` : ""}`)));
  document.body.dataset.version = snapshot.version;
  document.body.dataset.rendered = String(Date.now());  // when the page showed it (the latency bench reads it)
  document.body.dataset.changed = String(Math.round(snapshot.time * 1000));
}

document.getElementById("up-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act({ action: "up", profile: document.getElementById("profile").value });
});
document.getElementById("log-close").addEventListener("click", () => {
  if (logStream) logStream.close();
  document.getElementById("log").hidden = true;
});

const stream = new EventSource(`/api/events?${new URLSearchParams({ token })}`);
const connection = document.getElementById("connection");
stream.onopen = () => { connection.textContent = "live"; };
stream.onerror = () => { connection.textContent = "reconnecting…"; };
stream.onmessage = (message) => render(JSON.parse(message.data));
