// The review page. Everything it shows comes from the bot's API, authenticated by the init data Telegram
// puts in this page's URL fragment (#tgWebAppData=…); no script of Telegram's or anyone else's is loaded.
"use strict";

const NOT_FROM_TELEGRAM = "This page only works when opened from the bot's button in Telegram.";
const hash = new URLSearchParams(location.hash.slice(1));
const query = new URLSearchParams(location.search);
const initData = hash.get("tgWebAppData") || sessionStorage.getItem("tgWebAppData") || "";
if (hash.get("tgWebAppData")) sessionStorage.setItem("tgWebAppData", initData);

const state = {
  data: null,
  view: query.get("base") ? "turn" : "uncommitted",
  layout: localStorage.getItem("layout") || "unified",
  busy: false,
};
const $ = (id) => document.getElementById(id);

// --- Telegram's client, reached without its script: the events its webview and Telegram Web listen for.
function postEvent(type, data) {
  const payload = JSON.stringify(data || {});
  try {
    if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent(type, payload);
    else if (window.external && "notify" in window.external) window.external.notify(JSON.stringify({ eventType: type, eventData: data || {} }));
    else if (window.parent !== window) window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), "https://web.telegram.org");
  } catch (error) { /* outside Telegram: nothing to tell */ }
}

function applyTheme() {
  let theme = {};
  try { theme = JSON.parse(hash.get("tgWebAppThemeParams") || "{}"); } catch (error) { theme = {}; }
  const names = { bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
    button_color: "--button", button_text_color: "--button-text", secondary_bg_color: "--bg2",
    destructive_text_color: "--danger", section_separator_color: "--line" };
  for (const [key, variable] of Object.entries(names)) {
    if (/^#[0-9a-fA-F]{3,8}$/.test(theme[key] || "")) document.documentElement.style.setProperty(variable, theme[key]);
  }
  if (theme.bg_color) document.documentElement.dataset.dark = String(luminance(theme.bg_color) < 0.4);
}

function luminance(color) {
  const hex = color.length === 4 ? color.replace(/^#(.)(.)(.)$/, "#$1$1$2$2$3$3") : color;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// --- The API.
async function api(path, body) {
  const headers = { Authorization: "tma " + initData };
  const options = { headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.method = "POST";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new Error("The bot cannot be reached right now; check the connection and try again.");
  }
  let data = {};
  try { data = await response.json(); } catch (error) { data = {}; }
  if (!response.ok) {
    const failure = new Error(data.error || `The bot refused this request (HTTP ${response.status}).`);
    failure.status = response.status;
    throw failure;
  }
  return data;
}

async function load() {
  if (!initData) return fatal(NOT_FROM_TELEGRAM);
  const params = new URLSearchParams();
  for (const name of ["chat", "base", "head"]) if (query.get(name)) params.set(name, query.get(name));
  try {
    state.data = await api("api/review?" + params.toString());
  } catch (error) {
    return fatal(error.message);
  }
  if (!state.data.turn && !state.data.turn_missing) state.view = "uncommitted";
  render();
}

function fatal(sentence) {
  state.data = null;
  $("tabs").hidden = $("toolbar").hidden = $("actions").hidden = true;
  const main = $("main");
  main.replaceChildren(element("p", { className: "status refusal", id: "status" }, sentence));
}

// --- Rendering.
function element(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function code(html) {
  const node = element("span", { className: "code" });
  node.innerHTML = html; // built by the bot: every character of the file escaped, only its own <span class> added
  return node;
}

function render() {
  const data = state.data;
  $("title").textContent = data.chat.title;
  $("sub").textContent = data.chat.directory;
  document.title = "Review · " + data.chat.title;
  $("tabs").hidden = false;
  $("tab-turn").disabled = !data.turn && !data.turn_missing;
  for (const tab of document.querySelectorAll("#tabs button")) tab.setAttribute("aria-selected", String(tab.dataset.view === state.view));
  const main = $("main");
  main.replaceChildren();
  if (state.view === "files") return renderFiles(main);
  const change = state.view === "turn" ? data.turn : data.uncommitted;
  $("toolbar").hidden = !change;
  $("layout").textContent = state.layout === "split" ? "Unified" : "Side by side";
  $("layout").setAttribute("aria-pressed", String(state.layout === "split"));
  document.body.dataset.layout = state.layout;
  document.documentElement.style.setProperty("--header", $("top").offsetHeight + "px");
  const missing = state.view === "turn" ? data.turn_missing : data.no_git;
  if (!change) {
    main.append(element("p", { className: "status" }, missing || data.no_git || "Nothing to review."));
    $("actions").hidden = true;
    return;
  }
  $("summary").textContent = change.title;
  if (!change.files.length) main.append(element("p", { className: "status" }, "No changes: the work tree is as the last commit has it."));
  for (const file of change.files) main.append(renderFile(change, file));
  state.pending = change.files.filter((file) => !file.settled).length;
  $("actions").hidden = !state.pending;
  $("discard").hidden = state.view !== "turn";
  $("commit").textContent = state.view === "turn" ? "Commit these files…" : "Commit all…";
}

// --- The chat's files, read-only (Files tab).
async function openPath(path) {
  state.path = path;
  state.files = null;
  render();
  try {
    state.files = await api("api/files?" + new URLSearchParams({ chat: state.data.chat.key, path }).toString());
  } catch (error) {
    state.files = { kind: "error", path, error: error.message };
  }
  if (state.view === "files" && state.path === path) render();
}

function renderFiles(main) {
  $("toolbar").hidden = $("actions").hidden = true;
  if (state.path === undefined) { openPath(""); return; }
  const files = state.files;
  const crumbs = element("nav", { className: "crumbs" });
  const parts = state.path ? state.path.split("/") : [];
  const home = element("button", { type: "button", className: "crumb", textContent: state.data.chat.directory.split("/").filter(Boolean).pop() || "/" });
  home.addEventListener("click", () => openPath(""));
  crumbs.append(home);
  parts.forEach((part, index) => {
    const crumb = element("button", { type: "button", className: "crumb", textContent: part });
    crumb.addEventListener("click", () => openPath(parts.slice(0, index + 1).join("/")));
    crumbs.append(element("span", { className: "sep" }, "/"), crumb);
  });
  main.append(crumbs);
  if (!files) { main.append(element("p", { className: "status" }, "Loading…")); return; }
  if (files.kind === "error") { main.append(element("p", { className: "status refusal" }, files.error)); return; }
  if (files.kind === "dir") {
    const list = element("div", { className: "entries" });
    if (!files.entries.length) list.append(element("p", { className: "status" }, "An empty directory."));
    for (const entry of files.entries) {
      const target = (state.path ? state.path + "/" : "") + entry.name;
      const label = entry.kind === "dir" ? entry.name + "/" : entry.name;
      const detail = entry.kind === "file" ? size(entry.size) : entry.kind === "link" ? "symlink, not followed" : entry.kind === "dir" ? "" : "not a file";
      const row = element("button", { type: "button", className: "entry " + entry.kind + (entry.hidden ? " hidden-entry" : ""),
        disabled: entry.kind === "link" || entry.kind === "other" || entry.hidden },
      element("span", { className: "name" }, label), element("span", { className: "detail" }, entry.hidden ? "not shown" : detail));
      row.addEventListener("click", () => openPath(target));
      list.append(row);
    }
    main.append(list);
    return;
  }
  if (files.note) main.append(element("p", { className: "note" }, files.note));
  const table = element("div", { className: "lines file-lines" });
  files.lines.forEach((html, index) => {
    table.append(element("div", { className: "row plain" }, element("span", { className: "num" }, String(index + 1)), code(html)));
  });
  main.append(table);
}

function size(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

const STATUS = { added: "A", deleted: "D", modified: "M" };

function renderFile(change, file) {
  const details = element("details", { className: "file " + file.status + (file.settled ? " settled" : ""), open: !file.folded && !file.settled });
  const counts = file.binary ? element("span", { className: "counts" }, "binary")
    : element("span", { className: "counts" }, element("ins", {}, "+" + file.added), " ", element("del", {}, "−" + file.removed));
  const slash = file.path.lastIndexOf("/");
  const name = element("span", { className: "path", title: file.path },
    slash >= 0 ? element("span", { className: "dir" }, file.path.slice(0, slash + 1)) : null, file.path.slice(slash + 1));
  details.append(element("summary", {}, element("span", { className: "badge " + file.status }, STATUS[file.status] || "M"), name, counts));
  const body = element("div", { className: "file-body" });
  if (file.settled) {
    // Reverted, or committed since: nothing of this turn's change is left to act on.
    body.append(element("p", { className: "note" }, "Now as the last commit has it (reverted or committed since this turn)."));
    for (const hunk of file.hunks) body.append(renderHunk(file, hunk, true));
    details.append(body);
    return details;
  }
  const revert = element("button", { type: "button", className: "chip", textContent: "Revert file" });
  revert.addEventListener("click", () => act({ action: "revert-file", file: file.path, id: file.id },
    `Revert ${file.path} to ${state.view === "turn" ? "how it was before this turn" : "the last commit"}?`, "Revert"));
  body.append(element("div", { className: "file-actions" }, revert));
  if (file.binary) body.append(element("p", { className: "note" }, "A binary file: its content is not shown."));
  if (file.omitted) body.append(element("p", { className: "note" }, file.omitted));
  for (const hunk of file.hunks) body.append(renderHunk(file, hunk));
  details.append(body);
  return details;
}

function renderHunk(file, hunk, readOnly) {
  const section = element("div", { className: "hunk" });
  const revert = readOnly ? null : element("button", { type: "button", className: "chip small", textContent: "Revert" });
  if (revert) revert.addEventListener("click", () => act({ action: "revert-hunk", file: file.path, id: file.id, hunk: hunk.id },
    `Revert this change in ${file.path}?`, "Revert"));
  section.append(element("div", { className: "hunk-head" }, element("span", { className: "range" }, hunk.header.replace(/ @@.*$/, " @@")),
    element("span", { className: "context" }, hunk.context), revert));
  const table = element("div", { className: "lines" });
  if (state.layout === "split") for (const row of splitRows(hunk.lines)) table.append(splitRow(row));
  else for (const line of hunk.lines) table.append(unifiedRow(line));
  section.append(table);
  return section;
}

const KIND = { "+": "add", "-": "del", " ": "ctx" };

function unifiedRow([kind, old, now, html]) {
  return element("div", { className: "row " + KIND[kind] },
    element("span", { className: "num" }, old === null ? "" : String(old)),
    element("span", { className: "num" }, now === null ? "" : String(now)),
    element("span", { className: "sign" }, kind === " " ? "" : kind === "-" ? "−" : "+"),
    code(html));
}

// Side by side: a run of removed lines faces the run of added lines after it.
function splitRows(lines) {
  const rows = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i][0] === " ") { rows.push([lines[i], lines[i]]); i += 1; continue; }
    const removed = [];
    const added = [];
    while (i < lines.length && lines[i][0] === "-") removed.push(lines[i++]);
    while (i < lines.length && lines[i][0] === "+") added.push(lines[i++]);
    for (let k = 0; k < Math.max(removed.length, added.length); k += 1) rows.push([removed[k] || null, added[k] || null]);
  }
  return rows;
}

function splitRow([left, right]) {
  const half = (line, side) => {
    if (!line) return [element("span", { className: "num empty" }), element("span", { className: "code empty" })];
    const number = side === "old" ? line[1] : line[2];
    const node = code(line[3]);
    node.classList.add(line[0] === " " ? "ctx" : KIND[line[0]]);
    return [element("span", { className: "num " + (line[0] === " " ? "ctx" : KIND[line[0]]) }, String(number)), node];
  };
  return element("div", { className: "row split" }, ...half(left, "old"), ...half(right, "new"));
}

// --- Actions: each confirmed in the page, then sent with this page load's one-time token.
function ask(text, ok, withMessage) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  $("confirm-ok").className = ok === "Commit" ? "primary" : "primary danger";
  $("message-label").hidden = !withMessage;
  return new Promise((resolve) => {
    const done = (answer) => {
      $("confirm-ok").onclick = $("confirm-cancel").onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
    };
    $("confirm-ok").onclick = () => done(true);
    $("confirm-cancel").onclick = () => done(false);
    dialog.oncancel = () => done(false);
    dialog.showModal();
    if (withMessage) $("message").focus();
  });
}

async function act(fields, question, ok, withMessage) {
  if (state.busy || !state.data || !state.data.token) return;
  if (!(await ask(question, ok, withMessage))) return;
  const change = state.view === "turn" ? state.data.turn : state.data.uncommitted;
  const body = { chat: state.data.chat.key, token: state.data.token, view: state.view, base: change.base, head: change.head, ...fields };
  if (withMessage) body.message = $("message").value;
  state.busy = true;
  document.body.classList.add("busy");
  let said = null;
  let failed = false;
  try {
    said = (await api("api/action", body)).line;
  } catch (error) {
    said = error.message;
    failed = true;
  }
  state.data.token = null; // spent either way: the next action waits for the reload's token
  await load(); // the files as they are now
  state.busy = false;
  document.body.classList.remove("busy");
  toast(said, failed);
  postEvent("web_app_trigger_haptic_feedback", { type: "notification", notification_type: failed ? "error" : "success" });
}

// --- The page of everything waiting for an answer (?page=pending): Claude's requests across the user's chats.
const PENDING = query.get("page") === "pending";
const KIND_LABEL = { tool: "Permission", plan: "Plan", question: "Question" };

async function loadPending() {
  if (!initData) return fatal(NOT_FROM_TELEGRAM);
  try {
    state.data = await api("api/pending");
  } catch (error) {
    return fatal(error.message);
  }
  renderPending();
}

function renderPending() {
  const requests = state.data.requests;
  $("title").textContent = "Waiting for your answer";
  $("sub").textContent = requests.length ? `${requests.length} request${requests.length === 1 ? "" : "s"} across your chats` : "";
  $("sub").classList.add("plain");
  document.title = "Waiting for your answer";
  $("tabs").hidden = $("toolbar").hidden = $("actions").hidden = true;
  const main = $("main");
  main.replaceChildren();
  if (!requests.length) main.append(element("p", { className: "status", id: "status" }, "Nothing is waiting for your answer."));
  for (const request of requests) main.append(renderRequest(request));
}

function answerButton(request, label, action, className, choice) {
  const button = element("button", { type: "button", className: className || "secondary", textContent: label });
  button.addEventListener("click", () => answer(request, { action, choice }));
  return button;
}

function renderRequest(request) {
  const card = element("section", { className: "request " + request.kind, id: "request-" + request.id });
  card.append(element("div", { className: "request-head" },
    element("span", { className: "kind" }, KIND_LABEL[request.kind] || request.kind),
    element("span", { className: "chat" }, request.chat.title)));
  card.append(element("div", { className: "about" }, request.about));
  const buttons = element("div", { className: "choices" });
  let placeholder = "Deny with a reason…";
  if (request.kind === "tool") {
    if (request.title) card.append(element("p", { className: "note" }, request.title));
    card.append(element("pre", { className: "input", textContent: request.input }));
    buttons.append(answerButton(request, "Allow once", "once", "primary"));
    if (request.always) buttons.append(answerButton(request, "Always allow in this chat", "always"));
    buttons.append(answerButton(request, "Deny", "deny", "secondary danger-text"));
  } else if (request.kind === "plan") {
    card.append(element("pre", { className: "input plan", textContent: request.plan }));
    buttons.append(answerButton(request, "Approve the plan", "approve", "primary"));
    buttons.append(answerButton(request, "Keep planning", "keep"));
    placeholder = "Ask for changes to the plan…";
  } else {
    const question = request.question;
    if (question.count > 1) card.append(element("p", { className: "note" }, `Question ${question.number} of ${question.count}`));
    card.append(element("p", { className: "question" }, question.text));
    question.options.forEach((label, index) => {
      const picked = question.picked.includes(label);
      buttons.append(answerButton(request, (picked ? "✓ " : "") + label, "pick", picked ? "primary" : "secondary", index));
    });
    if (question.multi) buttons.append(answerButton(request, "Done", "done", "primary"));
    buttons.append(answerButton(request, "Dismiss", "dismiss", "secondary danger-text"));
    placeholder = "Or write your own answer…";
  }
  card.append(buttons);
  const text = element("textarea", { className: "reply", rows: 2, placeholder });
  const send = element("button", { type: "button", className: "secondary", textContent: "Send" });
  send.addEventListener("click", () => answer(request, { action: "reply", text: text.value }));
  card.append(element("div", { className: "reply-row" }, text, send));
  return card;
}

async function answer(request, fields) {
  if (state.busy || !state.data || !state.data.token) return;
  state.busy = true;
  document.body.classList.add("busy");
  let said = null;
  let failed = false;
  try {
    said = (await api("api/answer", { token: state.data.token, request: request.id, ...fields })).line;
  } catch (error) {
    said = error.message;
    failed = true;
  }
  state.data.token = null;
  await loadPending();
  state.busy = false;
  document.body.classList.remove("busy");
  toast(said === "Done." ? `Answered in ${request.chat.title}.` : said, failed);
}

// New requests appear without a reload, unless the user is writing an answer.
function refreshPending() {
  const writing = [...document.querySelectorAll("textarea.reply")].some((field) => field.value || field === document.activeElement);
  if (!state.busy && !writing && document.visibilityState === "visible" && state.data) loadPending();
}

let toastTimer = 0;
function toast(text, failed) {
  const node = $("toast");
  node.textContent = text;
  node.className = "shown" + (failed ? " failed" : "");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.className = ""; }, failed ? 8000 : 5000);
}

function start() {
  applyTheme();
  for (const tab of document.querySelectorAll("#tabs button")) {
    tab.addEventListener("click", () => { state.view = tab.dataset.view; render(); });
  }
  $("layout").addEventListener("click", () => {
    state.layout = state.layout === "split" ? "unified" : "split";
    localStorage.setItem("layout", state.layout);
    render();
  });
  $("discard").addEventListener("click", () => act({ action: "discard" },
    "Discard every change this turn made? Files it created are deleted, and what it changed goes back.", "Discard"));
  $("commit").addEventListener("click", () => {
    $("message").value = $("message").value || state.data.message || "";
    const count = state.pending;
    act({ action: "commit" }, `Commit ${count === 1 ? "this file" : "these " + count + " files"} as they are now?`, "Commit", true);
  });
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
  postEvent("web_app_ready");
  postEvent("web_app_expand");
  if (PENDING) {
    loadPending();
    setInterval(refreshPending, 5000);
  } else {
    load();
  }
}

document.addEventListener("DOMContentLoaded", start);
