// Draws each ```mermaid block of the page as GitHub does, then records the outcome in
// <script id="render-status"> so a test can read it from the dumped DOM.
mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });

async function drawAll() {
  const status = { diagrams: 0, rendered: 0, errors: [] };
  const blocks = document.querySelectorAll('pre[lang="mermaid"]');
  for (const [index, block] of Array.from(blocks).entries()) {
    const source = block.textContent;
    status.diagrams += 1;
    try {
      await mermaid.parse(source); // rejects on a syntax error, with the line and what it expected
      const { svg } = await mermaid.render(`diagram-${index}`, source);
      const figure = document.createElement("div");
      figure.className = "mermaid-figure";
      figure.dataset.diagram = String(index);
      figure.innerHTML = svg;
      block.replaceWith(figure);
      status.rendered += 1;
    } catch (error) {
      const message = String((error && error.message) || error);
      status.errors.push({ index, message });
      block.classList.add("mermaid-error");
      block.dataset.mermaidError = message;
      document.getElementById(`ddiagram-${index}`)?.remove(); // mermaid's own error drawing
    }
  }
  const body = document.querySelector(".markdown-body");
  status.height = Math.ceil(body.getBoundingClientRect().bottom);
  const out = document.createElement("script");
  out.id = "render-status";
  out.type = "application/json";
  out.textContent = JSON.stringify(status);
  document.body.appendChild(out);
  document.body.dataset.render = status.errors.length ? "error" : "ok";
}

drawAll();
