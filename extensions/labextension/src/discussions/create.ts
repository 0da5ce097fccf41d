/**
 * Starting a thread: on the active cell (stamping the notebook's keys the first time it
 * is discussed, and fingerprinting the cell for the anchor) or in the course Q&A.
 */
import { ICohortLabClient } from '../tokens';
import { fingerprint } from './anchor';
import { IComposed } from './compose';
import { ensureNotebookKey, INotebookPanelLike } from './notebook';
import { IScope, IThread } from './types';

export async function createThread(options: {
  client: ICohortLabClient;
  notebook: INotebookPanelLike | null;
  /** The scope the form was drawn for, and how to read the scope as it is now. */
  rendered: IScope;
  currentScope: () => IScope | null;
  composed: IComposed;
  onCell: boolean;
}): Promise<IThread> {
  const { client, notebook, composed: c, onCell } = options;
  // The cell active now, not when the form was drawn: key and anchor must agree.
  let scope = (onCell && options.currentScope()) || options.rendered;
  let notebookKey = scope.notebookKey;
  if (onCell && !notebookKey && notebook) {
    // The server extension stamps the key (and stable cell keys) into the file and the
    // notebook reloads: keep the same cell active, and read its key afresh.
    const content = notebook.content as unknown as { activeCellIndex: number };
    const at = content.activeCellIndex;
    notebookKey = await ensureNotebookKey(notebook, scope.course);
    if (content.activeCellIndex !== at) {
      content.activeCellIndex = at;
    }
    scope = options.currentScope() ?? scope;
  }
  const content = notebook?.content;
  const index = content && content.activeCell ? content.widgets.indexOf(content.activeCell) : -1;
  const anchor =
    onCell && content && index >= 0
      ? { ...(await fingerprint(content.widgets, index)), path: notebook?.context.path }
      : undefined;
  const cohort = c.audience.startsWith('cohort:') ? c.audience.slice(7) : null;
  return client.requestAPI<IThread>(`courses/${encodeURIComponent(scope.course)}/threads`, {
    method: 'POST',
    body: JSON.stringify({
      body: c.body,
      kind: c.kind,
      anonymous: c.anonymous,
      visibility: cohort ? 'cohort' : c.audience,
      ...(cohort ? { cohort } : {}),
      ...(onCell ? { notebook_key: notebookKey, cell_key: scope.cellKey, anchor } : {}),
      ...(!onCell && c.category ? { category: c.category } : {})
    })
  });
}
