// The gallery: /api/filter computes and encodes; this file shows the images and numbers.
let image = "camera";

async function applyKernel() {
  showError(null);
  const choice = document.getElementById("kernel").value;
  const body = { image, padding_mode: document.getElementById("mode").value };
  if (choice === "custom") body.weights = parseGrid(document.getElementById("custom").value);
  else body.kernel = choice;
  try {
    const data = await api("/api/filter", body);
    document.getElementById("in-img").src = data.input;
    document.getElementById("out-img").src = data.output;
    document.getElementById("grad-img").src = data.gradient;
    document.getElementById("range").textContent =
      `range ${data.range[0].toFixed(3)} … ${data.range[1].toFixed(3)}${data.signed ? " (0 = grey)" : ""}`;
    document.getElementById("kernel-desc").textContent = `${data.kernel.name}: ${data.kernel.responds_to}`;
  } catch (error) { showError(error); }
}

async function uploadFile() {
  const file = document.getElementById("upload").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  try { image = (await api("/api/upload", form)).id; await applyKernel(); }
  catch (error) { showError(error); }
}

document.addEventListener("DOMContentLoaded", async () => {
  const samples = await api("/api/samples");
  const sampleSelect = document.getElementById("sample");
  for (const name of samples) sampleSelect.add(new Option(name, name, name === "camera", name === "camera"));
  const kernels = await api("/api/kernels");
  const kernelSelect = document.getElementById("kernel");
  for (const k of kernels) kernelSelect.add(new Option(k.name, k.name, k.name === "sobel_x", k.name === "sobel_x"));
  kernelSelect.add(new Option("custom", "custom"));
  sampleSelect.addEventListener("change", () => { image = sampleSelect.value; applyKernel(); });
  kernelSelect.addEventListener("change", applyKernel);
  document.getElementById("mode").addEventListener("change", applyKernel);
  document.getElementById("apply").addEventListener("click", applyKernel);
  document.getElementById("upload").addEventListener("change", uploadFile);
  applyKernel();
});
