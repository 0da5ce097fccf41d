import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';

import { disarmCommandLinks } from '../peerText';

/**
 * Render a post's Markdown (and math) with JupyterLab's own renderer, untrusted, so its
 * sanitizer strips scripts, event handlers and anything else that could run; command links,
 * which the sanitizer keeps, are removed too (`peerText.ts`).
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
  void renderer.renderModel(model).then(
    () => disarmCommandLinks(renderer.node),
    () => {
      host.textContent = source; // rendering failed: show the text, as text
    }
  );
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

let lastId = 0;

/** An id for `aria-controls`/`list` links between elements drawn together. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${++lastId}`;
}

/** The message to show for a failure: the service's own when it sent one. */
export function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** Where focus was inside an element, in terms that survive redrawing it. */
export interface IFocusMark {
  testid: string;
  /** Which of the elements with that testid, in document order. */
  rank: number;
  selection: [number, number] | null;
}

/** Note where focus is inside `root`, if it is and the element has a testid. */
export function focusMark(root: HTMLElement): IFocusMark | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !root.contains(active) || !active.dataset.testid) {
    return null;
  }
  const testid = active.dataset.testid;
  const rank = Array.from(root.querySelectorAll(`[data-testid="${testid}"]`)).indexOf(active);
  const selection: [number, number] | null =
    active instanceof HTMLTextAreaElement || active instanceof HTMLInputElement
      ? [active.selectionStart ?? 0, active.selectionEnd ?? 0]
      : null;
  return { testid, rank, selection };
}

/** Put focus back on the element a mark names, if it is drawn; true when focus is there. */
export function applyFocus(root: HTMLElement, mark: IFocusMark): boolean {
  const again = root.querySelectorAll<HTMLElement>(`[data-testid="${mark.testid}"]`)[mark.rank];
  if (!again) {
    return false;
  }
  if (document.activeElement !== again) {
    again.focus();
    if (mark.selection && (again instanceof HTMLTextAreaElement || again instanceof HTMLInputElement)) {
      try {
        again.setSelectionRange(...mark.selection);
      } catch {
        // inputs of some types (e.g. checkbox) have no selection
      }
    }
  }
  return true;
}
