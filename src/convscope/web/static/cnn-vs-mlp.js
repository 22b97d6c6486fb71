// Starts the library's quick `shuffle` experiment on the server and polls its progress; when it is done,
// shows the verdict, the accuracies the library measured, and its figure. The page computes nothing.
const NAMES = { logistic: "logistic regression", mlp: "flattened MLP", cnn: "CNN" };

async function poll() {
  let status;
  try { status = await api("/api/lessons/shuffle"); } catch (error) { showError(error); return; }
  show(status);
  if (status.state === "running") setTimeout(poll, 700);
}

function show(status) {
  const button = document.getElementById("run"), bar = document.getElementById("bar");
  const progress = document.getElementById("progress");
  button.disabled = status.state === "running" || status.state === "done";
  bar.hidden = status.state !== "running";
  bar.value = status.percent;
  progress.textContent = status.state === "running" ? `training... ${status.percent}% (${status.stage})`
    : status.state === "done" ? `done in ${status.seconds} s` : "";
  if (status.state === "failed") showError(status.error);
  if (status.state === "done") result(status);
}

function result(status) {
  const box = document.getElementById("answer");
  const verdict = document.createElement("p");
  verdict.className = "try";
  verdict.innerHTML = `<b>${status.holds ? "The claim held" : "The claim did not hold"} in this run:</b> `;
  verdict.append(status.verdict + ".");
  const table = document.createElement("table");
  table.className = "grid accuracy";
  table.createCaption().textContent = "test accuracy, as the library measured it";
  const head = table.createTHead().insertRow();
  for (const text of ["data set", "model", "plain", "shuffled"]) {
    const th = document.createElement("th"); th.scope = "col"; th.textContent = text; head.appendChild(th);
  }
  const body = table.createTBody();
  const sets = [...new Set(Object.keys(status.accuracy).map(key => key.split("/")[0]))];
  for (const set of sets) {
    for (const model of Object.keys(NAMES)) {
      const plain = status.accuracy[`${set}/${model}/plain`], shuffled = status.accuracy[`${set}/${model}/shuffled`];
      if (plain === undefined) continue;
      const row = body.insertRow();
      for (const text of [set, NAMES[model], percent(plain), percent(shuffled)]) {
        row.insertCell().textContent = text;
      }
    }
  }
  const scroll = document.createElement("div");
  scroll.className = "scroll"; scroll.appendChild(table);
  const figure = document.createElement("img");
  figure.className = "photo"; figure.src = status.figure + "?t=" + Date.now();
  figure.alt = "bar charts of test accuracy, plain vs shuffled pixels, for each model and data set";
  const full = document.createElement("a");  // the figure is small on a phone: open it full size
  full.href = figure.src; full.appendChild(figure);
  box.replaceChildren(verdict, scroll, full);
}

// formatting only: the accuracies are the library's
function percent(value) { return `${(100 * value).toFixed(1)}%`; }

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("run").addEventListener("click", async () => {
    showError(null);
    try { show(await api("/api/lessons/shuffle", {})); } catch (error) { showError(error); return; }
    setTimeout(poll, 500);
  });
  poll();  // a run started earlier (by anyone) shows its progress or result at once
});
