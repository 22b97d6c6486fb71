// The slider asks /api/equivariance for the map at each position; this file draws it.
let last = null;

async function update() {
  showError(null);
  const position = Number(document.getElementById("position").value);
  const stride = Number(document.getElementById("stride").value);
  document.getElementById("position-value").textContent = position;
  try {
    const data = await api("/api/equivariance", { position, stride });
    heat(document.getElementById("in-canvas"), data.input, 8);
    heat(document.getElementById("out-canvas"), data.output, stride === 1 ? 8 : 16);
    const moved = last && last.stride === stride && last.position !== position ? data.peak[1] - last.peak[1] : null;
    document.getElementById("peak").textContent =
      `strongest response at row ${data.peak[0]}, column ${data.peak[1]}` +
      (moved === null ? "" : ` (moved ${moved} while the pattern moved ${position - last.position})`);
    if (moved !== null || !last || last.stride !== stride) last = data;
  } catch (error) { showError(error); }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("position").addEventListener("input", update);
  document.getElementById("stride").addEventListener("change", () => { last = null; update(); });
  update();
});
