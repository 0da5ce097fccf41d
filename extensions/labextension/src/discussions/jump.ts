/**
 * Going to a thread's notebook from anywhere (a notification, the flag list): find it
 * among the open notebooks, or find its file, and select the thread's cell.
 */
import { ILabShell, JupyterFrontEnd } from '@jupyterlab/application';

import { asNotebookPanel, cellKey, INotebookPanelLike, notebookScope } from './notebook';
import { IThread } from './types';

/** The open notebook a thread hangs on (same course and notebook key), if any. */
export function findOpenNotebook(
  shell: ILabShell,
  thread: IThread,
  myCourses: string[]
): INotebookPanelLike | null {
  for (const widget of shell.widgets('main')) {
    const panel = asNotebookPanel(widget);
    const scope = panel ? notebookScope(panel, myCourses) : null;
    if (panel && scope?.course === thread.course && scope.notebookKey === thread.notebook_key) {
      return panel;
    }
  }
  return null;
}

/**
 * A file in my server that holds the thread's notebook: the path kept in its anchor
 * when there is one, else where nbgrader puts a released notebook
 * (`<course>/<assignment>/<notebook>` for the key `<assignment>/<notebook>`).
 * Null when none of them exists.
 */
export async function findNotebookFile(
  app: JupyterFrontEnd,
  thread: IThread
): Promise<string | null> {
  const candidates: string[] = [];
  if (typeof thread.anchor?.path === 'string' && thread.anchor.path) {
    candidates.push(thread.anchor.path);
  }
  const key = thread.notebook_key ?? '';
  if (key.split('/').length === 2 && key.endsWith('.ipynb')) {
    candidates.push(`${thread.course}/${key}`);
  }
  for (const path of candidates) {
    try {
      const model = await app.serviceManager.contents.get(path, { content: false });
      if (model.type === 'notebook') {
        return model.path;
      }
    } catch {
      // not there (404) or not readable: try the next place
    }
  }
  return null;
}

/** Open a notebook file with the document manager; resolves once its content is loaded. */
export async function openNotebookFile(
  app: JupyterFrontEnd,
  path: string
): Promise<INotebookPanelLike> {
  const widget = await app.commands.execute('docmanager:open', { path });
  const panel = asNotebookPanel(widget ?? null);
  if (!panel) {
    throw new Error(`${path} did not open as a notebook.`);
  }
  await panel.context.ready;
  return panel;
}

/** Select cell `index` of a notebook and scroll it into view. */
export function selectCell(panel: INotebookPanelLike, index: number): void {
  const content = panel.content as any;
  content.activeCellIndex = index;
  void content.scrollToItem?.(index)?.catch?.(() => undefined);
}

/** Select the thread's cell in a notebook; false when no cell there has its key. */
export function selectThreadCell(panel: INotebookPanelLike, thread: IThread): boolean {
  if (!thread.cell_key) {
    return false;
  }
  const index = panel.content.widgets.findIndex(cell => cellKey(cell) === thread.cell_key);
  if (index >= 0) {
    selectCell(panel, index);
  }
  return index >= 0;
}
