// Shared helpers: talk to the API and draw. Nothing here computes a convolution.
const PAGES = [["index.html", "lab"], ["stepper.html", "stepper"], ["gallery.html", "gallery"],
  ["shapes.html", "shapes"], ["features.html", "feature maps"], ["equivariance.html", "equivariance"],
  ["quiz.html", "quiz"]];

function nav() {
  const here = location.pathname.split("/").pop() || "index.html";
  const bar = document.createElement("nav");
  for (const [href, label] of PAGES) {
    const a = document.createElement("a");
    a.href = href; a.textContent = label;
    if (href === here) a.className = "here";
    bar.appendChild(a);
  }
  document.body.prepend(bar);
}

async function api(path, body, method) {
  const options = body instanceof FormData ? { method: "POST", body }
    : body === undefined ? { method: method || "GET" }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
  return data;
}

function showError(error) {
  const box = document.getElementById("error");
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

function heat(canvas, rows, cell) {
  // values -> colours, zero grey, blue below, red above (rendering only)
  const ctx = canvas.getContext("2d");
  const flat = rows.flat();
  const scale = Math.max(1e-9, ...flat.map(Math.abs));
  canvas.width = rows[0].length * cell; canvas.height = rows.length * cell;
  rows.forEach((row, i) => row.forEach((v, j) => {
    const t = v / scale;
    const c = t >= 0 ? [128 + t * 50, 128 - t * 104, 128 - t * 85] : [128 + t * 95, 128 + t * 26, 128 - t * 44];
    ctx.fillStyle = `rgb(${c.map(Math.round).join(",")})`;
    ctx.fillRect(j * cell, i * cell, cell, cell);
  }));
}

document.addEventListener("DOMContentLoaded", nav);
