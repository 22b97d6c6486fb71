// Draw; send the 32x32 canvas values to /api/digit; show what it returns.
let drawing = false;

function strokeAt(canvas, event) {
  const box = canvas.getBoundingClientRect();
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.beginPath();
  ctx.arc(event.clientX - box.left, event.clientY - box.top, 14, 0, 2 * Math.PI);
  ctx.fill();
}

function pixels(canvas) {
  // the canvas as a 32x32 grid of brightness (mean of each 8x8 block of screen pixels)
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const block = canvas.width / 32, grid = [];
  for (let i = 0; i < 32; i++) {
    const row = [];
    for (let j = 0; j < 32; j++) {
      let total = 0;
      for (let y = i * block; y < (i + 1) * block; y++)
        for (let x = j * block; x < (j + 1) * block; x++) total += data[(y * canvas.width + x) * 4];
      row.push(total / (block * block * 255));
    }
    grid.push(row);
  }
  return grid;
}

async function read() {
  showError(null);
  document.getElementById("prediction").textContent = "…";
  try {
    const data = await api("/api/digit", { pixels: pixels(document.getElementById("draw")) });
    document.getElementById("prediction").textContent = data.prediction;
    document.getElementById("probs").replaceChildren(...data.probabilities.map((p, k) => {
      const line = document.createElement("div");
      line.innerHTML = `${k} <span class="bar" style="width:${Math.round(p * 200)}px"></span> ${(p * 100).toFixed(1)}%`;
      return line;
    }));
    document.getElementById("model-note").textContent =
      `model test accuracy on held-out digits: ${(data.model_accuracy * 100).toFixed(1)}%`;
    heat(document.getElementById("small"), data.input, 16);
    const maps = document.getElementById("maps");
    maps.replaceChildren();
    for (const layer of data.feature_maps) {
      const title = document.createElement("h4");
      title.textContent = `${layer.layer}: ${layer.shape.join(" x ")}`;
      maps.appendChild(title);
      for (const src of layer.maps) { const img = new Image(); img.src = src; img.className = "map"; maps.appendChild(img); }
    }
  } catch (error) { showError(error); }
}

document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("draw");
  canvas.addEventListener("pointerdown", e => { drawing = true; strokeAt(canvas, e); });
  canvas.addEventListener("pointermove", e => { if (drawing) strokeAt(canvas, e); });
  window.addEventListener("pointerup", () => { if (drawing) { drawing = false; read(); } });
  document.getElementById("read").addEventListener("click", read);
  document.getElementById("clear").addEventListener("click", () => {
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  });
});
