// The model page's menus: which models are ready (the built-in ones train when the lab starts), and
// the inputs: random numbers, sample photos, a built-in model's held-out examples, an uploaded image,
// or a drawing. An upload and a drawing both go to /api/upload; the page then names its id as the input.
(() => {
  let photos = [];        // the sample photos the lab offers (from /api/models)
  let last = null;       // where the pointer was, to draw a line rather than dots
  let uploads = [];      // [id, label] of this visit's uploads and drawings, newest last

  function chosen() { return state.models.find(m => m.name === $("model").value); }

  function fillInputs(keep) {
    // the inputs that suit the chosen model; the previous choice stays when it still exists
    const model = chosen(), image = model && model.input.length === 4 && [1, 3].includes(model.input[1]);
    const options = [new Option("random numbers", "random")];
    if (model && model.labels && model.source === "built-in")
      model.labels.forEach((label, k) => options.push(new Option(`held-out example: ${label}`, `example-${k}`)));
    if (image) {
      photos.forEach(name => options.push(new Option(`photo: ${name}`, name)));
      uploads.forEach(([id, label]) => options.push(new Option(label, id)));
      options.push(new Option("your image (upload)\u2026", "choose-upload"), new Option("your drawing", "choose-drawing"));
    }
    $("input").replaceChildren(...options);
    const values = options.map(o => o.value);
    $("input").value = values.includes(keep) ? keep : model && model.source === "built-in" ? "example-0"
      : image ? "astronaut" : "random";
  }

  async function inputChanged() {
    const value = $("input").value;
    $("upload-label").hidden = value !== "choose-upload";
    const drawn = uploads.some(([id, label]) => id === value && label === "your drawing");
    $("drawing").hidden = value !== "choose-drawing" && !drawn;
    if (value === "choose-upload") { $("upload").focus(); return; }
    if (value === "choose-drawing") return;   // read when the pen lifts
    await loadLayers();
  }

  async function send(blob, filename, label) {
    // an image for the model: decoded and checked by the server (size, format), kept under an id
    const form = new FormData();
    form.append("file", blob, filename);
    try {
      const answer = await api("/api/upload", form);
      uploads = uploads.filter(([, l]) => l !== label).concat([[answer.id, label]]);
      fillInputs(answer.id);
      await inputChanged();
    } catch (error) { showError(error); }
  }

  function point(canvas, event) {
    // CSS may shrink the canvas (a phone): map the pointer to the canvas's own pixels
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  }

  function stroke(canvas, event) {
    const ctx = canvas.getContext("2d"), [x, y] = point(canvas, event), [fromX, fromY] = last || [x, y];
    // about 1.5 of the model's own pixels wide (a bar of the 24x24 shapes is 1), at least 8 of the canvas's 192
    const model = chosen(), brush = Math.max(8, 192 / (model ? model.input[2] : 24));
    ctx.strokeStyle = "#fff"; ctx.lineWidth = brush; ctx.lineCap = "round";
    ctx.beginPath(); ctx.moveTo(fromX, fromY); ctx.lineTo(x, y); ctx.stroke();
    last = [x, y];
  }

  function clearDrawing(canvas) {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height);   // opaque: PNG transparency reads as white
  }

  function listModels(served, keep) {
    state.models = served.models;
    if (served.photos) photos = served.photos;
    const ready = served.models.filter(m => m.ready);
    $("model").replaceChildren(...ready.map(m => new Option(`${m.name} (${m.source.replace(/^your file .*\//, "your file ")})`, m.name)));
    const mine = ready.find(m => m.source !== "built-in"), shapes = ready.find(m => m.name === "shapes CNN");
    if (ready.some(m => m.name === keep)) $("model").value = keep;
    else if (ready.length) $("model").value = (mine || shapes || ready[0]).name;
    const training = served.models.filter(m => !m.ready);
    $("training").hidden = !training.length;
    $("training").textContent = training.map(m => `${m.name}: ${m.status}`).join("; ");
    const model = chosen();
    $("about").textContent = model ? `${model.description} (${(model.parameters || 0).toLocaleString("en")} parameters).` : "";
  }

  async function poll(waiting) {
    // until every built-in model is trained; the menu gains each one as it becomes ready
    const served = await api("/api/models");
    const before = $("model").value;
    listModels(served, before);
    if (!before && $("model").value) { fillInputs(null); await loadLayers(); }
    if (served.models.some(m => !m.ready)) setTimeout(() => poll(waiting).catch(showError), 1000);
    else if (waiting && !$("model").value) showError("no model could be trained; restart the lab");
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const canvas = $("draw");
    clearDrawing(canvas);
    canvas.addEventListener("pointerdown", e => { canvas.setPointerCapture(e.pointerId); last = null; stroke(canvas, e); });
    canvas.addEventListener("pointermove", e => { if (last) stroke(canvas, e); });
    canvas.addEventListener("pointerup", () => {
      if (!last) return;
      last = null;
      canvas.toBlob(blob => send(blob, "drawing.png", "your drawing"), "image/png");
    });
    canvas.addEventListener("pointercancel", () => { last = null; });
    $("clear-drawing").addEventListener("click", () => clearDrawing(canvas));
    $("upload").addEventListener("change", () => {
      const file = $("upload").files[0];
      if (file) send(file, file.name, `your image: ${file.name}`);
    });
    $("model").addEventListener("change", () => {
      listModels({ models: state.models }, $("model").value);
      fillInputs($("input").value);
      inputChanged();
    });
    $("input").addEventListener("change", inputChanged);
    $("previous").addEventListener("click", () => { state.start = Math.max(0, state.start - PAGE); loadMaps(); });
    $("next").addEventListener("click", () => { state.start += PAGE; loadMaps(); });
    try {
      const served = await api("/api/models");
      listModels(served, null);
      if ($("model").value) { fillInputs(null); await inputChanged(); }
      if (served.models.some(m => !m.ready)) setTimeout(() => poll(true).catch(showError), 1000);
    } catch (error) { showError(error); }
  });
})();
