import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';

/**
 * Render a post's Markdown (and math) with JupyterLab's own renderer, untrusted, so its
 * sanitizer strips scripts, event handlers and anything else that could run.
 */
export function renderMarkdown(
  rendermime: IRenderMimeRegistry,
  source: string,
  host: HTMLElement
): void {
  const renderer = rendermime.createRenderer('text/markdown');
  renderer.addClass('cl-Markdown');
  host.replaceChildren(renderer.node);
  const model = new MimeModel({ data: { 'text/markdown': source }, trusted: false });
  void renderer.renderModel(model).catch(() => {
    host.textContent = source; // rendering failed: show the text, as text
  });
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, value);
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export function button(label: string, testid: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', { type: 'button', class: 'jp-Button cl-Discussion-button' }, label);
  b.dataset.testid = testid;
  b.addEventListener('click', onClick);
  return b;
}
