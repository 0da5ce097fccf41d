import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { ICohortLabClient } from '../tokens';
import { button, el, errorText, renderMarkdown, uniqueId } from './render';
import { IRevision } from './types';

/**
 * An edited post's earlier bodies, behind a "History" disclosure button (for the post's
 * toolbar) that shows and hides a region (for under the post). Only the author and
 * staff get the button (the service answers 403 to anyone else). The bodies go through
 * the same sanitizing Markdown renderer as posts, read-only. `open` is kept by the
 * caller, so a redraw of the thread (any event nearby) keeps the history shown.
 */
export function historyControl(
  client: ICohortLabClient,
  rendermime: IRenderMimeRegistry,
  options: { course: string; postId: number; open: Set<number> }
): { button: HTMLButtonElement; region: HTMLElement } {
  const { course, postId, open } = options;
  const region = el('div', { class: 'cl-History-list', id: uniqueId('cl-history') });
  region.dataset.testid = 'cl-history';
  const toggle = button('History', 'cl-history-toggle', () => {
    const show = region.hidden;
    if (show) {
      open.add(postId);
    } else {
      open.delete(postId);
    }
    void setOpen(show);
  });
  toggle.setAttribute('aria-controls', region.id);

  const setOpen = async (show: boolean): Promise<void> => {
    region.hidden = !show;
    toggle.setAttribute('aria-expanded', String(show));
    if (!show) {
      return;
    }
    region.replaceChildren(el('p', { class: 'cl-Discussion-empty' }, 'Loading history…'));
    region.setAttribute('aria-busy', 'true');
    try {
      const { revisions } = await client.requestAPI<{ revisions: IRevision[] }>(
        `courses/${encodeURIComponent(course)}/posts/${postId}/revisions`
      );
      region.replaceChildren(renderRevisions(rendermime, revisions));
    } catch (reason) {
      const alert = el('p', { class: 'cl-Compose-error', role: 'alert' }, errorText(reason));
      alert.dataset.testid = 'cl-history-error';
      region.replaceChildren(alert);
    } finally {
      region.removeAttribute('aria-busy');
    }
  };

  void setOpen(open.has(postId));
  return { button: toggle, region };
}

function renderRevisions(rendermime: IRenderMimeRegistry, revisions: IRevision[]): HTMLElement {
  if (revisions.length === 0) {
    return el('p', { class: 'cl-Discussion-empty' }, 'No earlier versions.');
  }
  const list = el('ol', { class: 'cl-History-items', 'aria-label': 'Earlier versions, oldest first' });
  revisions.forEach((revision, i) => {
    const item = el('li', { class: 'cl-History-item' });
    item.dataset.testid = 'cl-revision';
    const when = new Date(revision.edited_at);
    const label = Number.isNaN(when.getTime()) ? revision.edited_at : when.toLocaleString();
    const body = el('div', { class: 'cl-History-body' });
    body.dataset.testid = 'cl-revision-body';
    renderMarkdown(rendermime, revision.body, body);
    item.append(el('div', { class: 'cl-Post-meta' }, `Version ${i + 1} · replaced ${label}`), body);
    list.append(item);
  });
  return list;
}
