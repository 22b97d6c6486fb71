// Shared helpers for every page: the lesson path, talking to the API, drawing. Nothing here computes a
// convolution: every number comes from the library through the JSON API.
//
// Conventions a page follows:
// - an element with id "error" receives messages; showError(error) writes the message there AND empties
//   every element with class "result" (tables, text, images; canvases are cleared), so an error never
//   sits above the answer to an older request. showError(null) just clears the message.
// - elements with class "result" (and #error) are made aria-live regions here, so screen readers hear
//   new answers; give each canvas an aria-label (or role="img" and a label) saying what it shows.
// - while any api() call runs, <html data-pending="n"> is set and, after a short delay, a "working..."
//   badge shows; a page may also mark its own spot with class "loading" (styled by style.css).

// Only these names are global (the pages' scripts share the scope): PAGES, Lab, nav, api, showError,
// parseGrid, drawTable, heat. Everything else lives inside Lab, so a page's own helpers cannot clash.
const Lab = (() => {
  // The lesson, in the order of the seed lessons: [page, short label for the bar, what the step shows].
  const steps = [
    ["stepper.html", "slide, multiply, sum", "one window at a time: the kernel's products, their sum, and the output size formula"],
    ["features.html", "filter banks", "a trained CNN's bank of filters: one feature map per filter, each channel a pattern"],
    ["gallery.html", "filters on photos", "hand-designed kernels (edges, blur, sharpen) on real photos or yours"],
    ["shapes.html", "shapes & receptive field", "a stack's output sizes with the ? solved, and the input patch one unit sees"],
    ["equivariance.html", "equivariance & stride", "move the pattern and the map moves with it, until a stride skips positions"],
    ["cnn-vs-mlp.html", "CNN vs flat MLP", "the same digits with their pixels shuffled: the MLP does not care, the CNN does"],
    ["quiz.html", "quiz", "check yourself: every answer is computed by the library"],
  ];
  const pages = [["index.html", "start"], ...steps.map(([href, label]) => [href, label])];
  const here = () => location.pathname.split("/").pop() || "index.html";

  function bar() {
    const box = document.createElement("nav");
    box.className = "path";
    box.setAttribute("aria-label", "lesson steps");
    const list = document.createElement("ol");
    pages.forEach(([href, label], index) => {
      const item = document.createElement("li");
      const a = document.createElement("a");
      a.href = href;
      a.textContent = index === 0 ? "convscope lab" : `${index} ${label}`;
      if (index > 0) a.title = steps[index - 1][2];
      if (href === here()) { a.className = "here"; a.setAttribute("aria-current", "page"); }
      item.appendChild(a);
      list.appendChild(item);
    });
    box.appendChild(list);
    document.body.prepend(box);
  }

  function stepLinks() {
    // "previous / next step" at the bottom of the page
    const at = pages.findIndex(([href]) => href === here());
    if (at < 0) return;
    const box = document.createElement("nav");
    box.className = "steps";
    box.setAttribute("aria-label", "previous and next step");
    const link = (index, word) => {
      const [href, label] = pages[index];
      const a = document.createElement("a");
      a.href = href; a.className = word;
      a.textContent = word === "previous" ? `\u2190 ${index ? `step ${index}: ${label}` : "start"}`
        : `next, step ${index}: ${label} \u2192`;
      box.appendChild(a);
    };
    if (at > 0) link(at - 1, "previous");
    if (at + 1 < pages.length) link(at + 1, "next");
    (document.querySelector("main") || document.body).appendChild(box);
  }

  function liveRegions() {
    for (const element of document.querySelectorAll(".result")) {
      if (!element.hasAttribute("aria-live")) element.setAttribute("aria-live", "polite");
    }
    const box = document.getElementById("error");
    if (box) { box.setAttribute("role", "alert"); box.classList.add("error"); }
  }

  function busyBadge() {
    const badge = document.createElement("div");
    badge.id = "lab-busy";
    badge.setAttribute("role", "status");
    badge.hidden = true;
    badge.textContent = "working\u2026";
    document.body.appendChild(badge);
  }

  let pending = 0, badgeTimer = null;
  function setPending(change) {
    pending += change;
    const root = document.documentElement;
    if (pending > 0) root.dataset.pending = String(pending); else delete root.dataset.pending;
    const badge = document.getElementById("lab-busy");
    if (!badge) return;
    clearTimeout(badgeTimer);
    // a delay, so quick answers (a stepper frame) do not flash the badge
    if (pending > 0) badgeTimer = setTimeout(() => { badge.hidden = false; }, 300);
    else badge.hidden = true;
  }

  function clearResults() {
    for (const element of document.querySelectorAll(".result")) {
      if (element instanceof HTMLCanvasElement) element.getContext("2d").clearRect(0, 0, element.width, element.height);
      else if (element instanceof HTMLImageElement) element.removeAttribute("src");
      else element.replaceChildren();
    }
  }

  function start() { bar(); stepLinks(); liveRegions(); busyBadge(); }
  return { steps, pages, start, setPending, clearResults };
})();

// kept for pages written before Lab.steps: [page, label], the index first
const PAGES = Lab.pages;

function nav() { Lab.start(); }

async function api(path, body, method) {
  const options = body instanceof FormData ? { method: "POST", body }
    : body === undefined ? { method: method || "GET" }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  Lab.setPending(+1);
  try {
    let response;
    try { response = await fetch(path, options); }
    catch (failure) { throw new Error("the lab's server did not answer: is it still running? Then reload the page"); }
    const text = await response.text();
    let data = null;
    try { data = JSON.parse(text); } catch (notJson) { data = null; }
    if (!response.ok) {
      throw new Error((data && data.error) || `the server could not answer (HTTP ${response.status}); ` +
                      "try other values, or reload the page");
    }
    if (data === null) throw new Error("the server's answer could not be read; reload the page");
    return data;
  } finally { Lab.setPending(-1); }
}

function showError(error) {
  const box = document.getElementById("error");
  if (error) Lab.clearResults();
  if (box) box.textContent = error ? String(error.message || error) : "";
}

function parseGrid(text) {
  // "1 2 3" rows; a blank line starts the next channel. Parsing only: the API checks and computes.
  const channels = text.trim().split(/\n\s*\n/).map(block =>
    block.trim().split("\n").map(line => line.trim().split(/[\s,]+/).map(Number)));
  return channels.length === 1 ? channels[0] : channels;
}

function drawTable(target, rows, classFor) {
  const table = document.createElement("table");
  table.className = "grid";
  rows.forEach((row, i) => {
    const tr = table.insertRow();
    row.forEach((value, j) => {
      const td = tr.insertCell();
      td.textContent = value === null ? "" : (Number.isInteger(value) ? value : Number(value).toFixed(2));
      td.dataset.row = i; td.dataset.col = j;
      const extra = classFor ? classFor(i, j) : "";
      if (extra) td.className = extra;
    });
  });
  target.replaceChildren(table);
  return table;
}

function heat(canvas, rows, cell, shared) {
  // values -> colours, zero grey, blue below, red above (rendering only); ``shared``: one scale for
  // several pictures, else this one's largest magnitude
  const ctx = canvas.getContext("2d");
  const scale = shared || Math.max(1e-9, ...rows.flat().map(Math.abs));
  canvas.width = rows[0].length * cell; canvas.height = rows.length * cell;
  rows.forEach((row, i) => row.forEach((v, j) => {
    const t = v / scale;
    const c = t >= 0 ? [128 + t * 50, 128 - t * 104, 128 - t * 85] : [128 + t * 95, 128 + t * 26, 128 - t * 44];
    ctx.fillStyle = `rgb(${c.map(Math.round).join(",")})`;
    ctx.fillRect(j * cell, i * cell, cell, cell);
  }));
}

document.addEventListener("DOMContentLoaded", nav);
