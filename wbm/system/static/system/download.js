// System Control / Log Files: download a bundle with a progress bar. The server sends the
// bundle's Content-Length, so the bar shows how much has arrived; without script the link is an
// ordinary download (the browser shows its own progress).
(() => {
  "use strict";
  function fileName(response, fallback) {
    const header = response.headers.get("Content-Disposition") || "";
    const match = /filename="?([^";]+)"?/.exec(header);
    return match ? match[1] : fallback;
  }
  async function download(link) {
    const bar = document.getElementById("download-progress");
    const label = document.getElementById("download-status");
    bar.hidden = false;
    bar.removeAttribute("value");
    label.textContent = label.dataset.preparing;
    const response = await fetch(link.href, { credentials: "same-origin" });
    if (!response.ok || !response.body) throw new Error(String(response.status));
    const total = Number(response.headers.get("Content-Length")) || 0;
    const reader = response.body.getReader();
    const chunks = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      if (total) {
        bar.max = total;
        bar.value = received;
        label.textContent = `${Math.round((100 * received) / total)} %`;
      }
    }
    const url = URL.createObjectURL(new Blob(chunks, { type: "application/zip" }));
    const save = document.createElement("a");
    save.href = url;
    save.download = fileName(response, "wbm-logs.zip");
    document.body.appendChild(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    label.textContent = label.dataset.done;
  }
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-progress-download]");
    if (!link || !window.fetch || !window.ReadableStream) return;
    event.preventDefault();
    download(link).catch(() => { window.location.href = link.href; });
  });
})();
