// Safe DOM building: every value from the chain goes in as a text node or an attribute, never
// as markup: the explorer never parses a string as HTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "href") el.setAttribute("href", safeHref(value));
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function safeHref(value) {
  const text = String(value);
  return text.startsWith("#/") || text.startsWith("/") ? text : "#/";
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function link(route, text, cls) {
  return h("a", { href: "#/" + route, class: cls }, text);
}

export const isAddress = (v) => typeof v === "string" && /^0x[0-9a-f]{40}$/.test(v);
export const isHash = (v) => typeof v === "string" && /^0x[0-9a-f]{64}$/.test(v);

export function short(v) {
  const text = String(v);
  return text.length > 22 ? text.slice(0, 10) + "…" + text.slice(-8) : text;
}

export function addr(v) {
  if (!isAddress(v)) return code(v === "0x" ? "–" : v);
  return h("a", { href: "#/account/" + v, class: "mono", title: v }, short(v));
}

export function txLink(v) {
  if (!isHash(v)) return code(v);
  return h("a", { href: "#/tx/" + v, class: "mono", title: v }, short(v));
}

export function blockLink(height) {
  return h("a", { href: "#/block/" + height }, "#" + height);
}

export function code(v) {
  return h("code", {}, v === null || v === undefined ? "–" : String(v));
}

export function num(v) {
  return typeof v === "number" ? v.toLocaleString("en-US") : String(v);
}

export function time(ms) {
  if (!ms) return "–";
  const d = new Date(ms);
  return h("time", { datetime: d.toISOString(), title: d.toISOString() },
    d.toISOString().replace("T", " ").slice(0, 19));
}

// A value of unknown shape, shown readably: addresses and hashes linked, objects as nested tables.
export function value(v, depth = 0) {
  if (v === null || v === undefined || v === "") return "–";
  if (isAddress(v)) return addr(v);
  if (isHash(v)) return code(v);
  if (typeof v === "number") return num(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) {
    if (!v.length) return "[]";
    return h("ul", { class: "plain" }, v.map((x) => h("li", {}, value(x, depth + 1))));
  }
  if (typeof v === "object") {
    if (depth > 3) return code(JSON.stringify(v));
    const keys = Object.keys(v);
    if (!keys.length) return "–";
    return kv(keys.map((k) => [k, value(v[k], depth + 1)]));
  }
  return String(v).length > 80 ? code(v) : String(v);
}

// A two-column table of [label, content] rows.
export function kv(rows, attrs) {
  return h("table", { class: "kv", ...attrs },
    h("tbody", {}, rows.filter((r) => r).map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v)))));
}

// A table: columns [[title, (row) => content]], rows.
export function table(columns, rows, attrs) {
  return h("table", { class: "grid", ...attrs },
    h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", {}, title)))),
    h("tbody", {}, rows.map((r) => tableRow(columns, r))));
}

export function tableRow(columns, r) {
  return h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(r))));
}

export function section(title, ...children) {
  return h("section", {}, h("h2", {}, title), ...children);
}

export function badge(text) {
  const t = String(text);
  const cls = /^(ok|active|open|paid|committed|approved|held|confirmed|accepted|live)$/.test(t) ? "ok"
    : /^(failed|refused|rejected|dishonoured|revoked|frozen|expired|dropped|defaulted)$/.test(t) ? "bad" : "";
  return h("span", { class: "badge " + cls }, t);
}

// Save text as a file the browser downloads.
export function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: "/", download: name });
  a.href = url;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
