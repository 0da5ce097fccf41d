/**
 * Reading course and cell keys from an open notebook, without a build-time dependency
 * on @jupyterlab/notebook: the panel only needs a few members of a NotebookPanel.
 *
 * Keys follow `cohortlab.discussions.anchoring` in the service: nbgrader's grade_id,
 * then the `metadata.cohortlab.cell_key` stamp, then the cell id.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

export interface ICellLike extends Widget {
  model: {
    id: string;
    sharedModel: { getSource(): string };
    getMetadata(key: string): any;
    setMetadata(key: string, value: any): void;
  };
}

export interface INotebookLike extends Widget {
  activeCell: ICellLike | null;
  widgets: ReadonlyArray<ICellLike>;
  activeCellChanged: ISignal<any, ICellLike | null>;
  model: { getMetadata(key: string): any; setMetadata(key: string, value: any): void } | null;
}

export interface INotebookPanelLike extends Widget {
  content: INotebookLike;
  context: {
    path: string;
    ready: Promise<void>;
    model?: { dirty: boolean };
    save?(): Promise<void>;
    revert?(): Promise<void>;
  };
}

export function asNotebookPanel(widget: Widget | null): INotebookPanelLike | null {
  const panel = widget as any;
  if (
    panel?.content &&
    panel.content.activeCellChanged &&
    typeof panel?.context?.path === 'string' &&
    panel.context.path.endsWith('.ipynb')
  ) {
    return panel as INotebookPanelLike;
  }
  return null;
}

/**
 * Which of those keys a cell has, as `anchoring.key_kind`: a grade_id or stamp is in every
 * copy of a course notebook, a bare cell id may be this copy's alone (a cell its owner
 * added), which the service keeps from peers of an anonymous thread.
 */
export function cellKeyKind(cell: ICellLike): 'grade_id' | 'stamp' | 'id' {
  if (cell.model.getMetadata('nbgrader')?.grade_id) {
    return 'grade_id';
  }
  if (cell.model.getMetadata('cohortlab')?.cell_key) {
    return 'stamp';
  }
  return 'id';
}

export function cellKey(cell: ICellLike): string {
  const nbgrader = cell.model.getMetadata('nbgrader');
  if (nbgrader?.grade_id) {
    return String(nbgrader.grade_id);
  }
  const stamp = cell.model.getMetadata('cohortlab');
  if (stamp?.cell_key) {
    return String(stamp.cell_key);
  }
  return cell.model.id;
}

/**
 * The course and notebook key of an open notebook, or null when it belongs to none of
 * my courses. A notebook fetched with nbgrader lives at `<course>/<assignment>/<file>`
 * and is keyed `<assignment>/<file>`, so every learner's copy shares its threads.
 */
export function notebookScope(
  panel: INotebookPanelLike,
  myCourses: string[]
): { course: string; notebookKey: string | null } | null {
  if (panel.content.model?.getMetadata('cohortlab_review')) {
    // A peer review copy (or the feedback on one's own work) is someone's anonymous
    // submission, not a course notebook: its discussion is the review itself.
    return null;
  }
  const meta = panel.content.model?.getMetadata('cohortlab') ?? {};
  const parts = panel.context.path.split('/');
  if (meta.course && myCourses.includes(meta.course)) {
    return { course: meta.course, notebookKey: meta.notebook_key ?? null };
  }
  const at = parts.findIndex(p => myCourses.includes(p));
  if (at >= 0 && parts.length - at === 3) {
    return { course: parts[at], notebookKey: `${parts[at + 1]}/${parts[at + 2]}` };
  }
  if (myCourses.length === 1) {
    return { course: myCourses[0], notebookKey: meta.notebook_key ?? null };
  }
  return null;
}

/**
 * The notebook's discussion key, stamping one the first time it is discussed.
 *
 * The server extension writes the key into the file (`POST cohortlab/notebook-key`),
 * so it is on disk whatever happens next, and the clean notebook is reloaded to show
 * it. A notebook with unsaved changes is stamped here and saved, as reloading would
 * lose those changes; so is one whose server has no CohortLab extension.
 */
export async function ensureNotebookKey(
  panel: INotebookPanelLike,
  course: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<string> {
  const existing = panel.content.model?.getMetadata('cohortlab')?.notebook_key;
  if (existing) {
    return String(existing);
  }
  const context = panel.context;
  if (!context.model?.dirty && context.revert) {
    try {
      const response = await ServerConnection.makeRequest(
        URLExt.join(settings.baseUrl, 'cohortlab', 'notebook-key'),
        { method: 'POST', body: JSON.stringify({ path: context.path, course }) },
        settings
      );
      if (response.ok) {
        const data = (await response.json()) as { notebook_key: string; cell_keys: string[] };
        await context.revert();
        await reloaded(panel, data.cell_keys ?? []);
        return data.notebook_key;
      }
    } catch {
      // fall back to stamping here
    }
  }
  const key = stampNotebookKey(panel, course);
  stampCellKeys(panel);
  await context.save?.();
  return key;
}

/**
 * The browser's twin of `anchoring.stamp_cell_keys`: every cell nbgrader does not key
 * gets `metadata.cohortlab.cell_key` (its current key, so nothing said about it moves),
 * which the save writes even in nbformat < 4.5 files that keep no cell ids.
 */
function stampCellKeys(panel: INotebookPanelLike): void {
  const cells = panel.content.widgets;
  const taken = new Set<string>();
  for (const cell of cells) {
    const gradeId = cell.model.getMetadata('nbgrader')?.grade_id;
    if (gradeId) {
      taken.add(String(gradeId));
    }
  }
  for (const cell of cells) {
    if (cell.model.getMetadata('nbgrader')?.grade_id) {
      continue;
    }
    const stamp = cell.model.getMetadata('cohortlab') ?? {};
    if (stamp.cell_key && !taken.has(String(stamp.cell_key))) {
      taken.add(String(stamp.cell_key));
      continue;
    }
    let key = cell.model.id;
    if (taken.has(key)) {
      key = crypto.randomUUID().replace(/-/g, '');
    }
    taken.add(key);
    cell.model.setMetadata('cohortlab', { ...stamp, cell_key: key });
  }
}

/** Resolve once the reloaded notebook's cells carry the keys the server stamped (the
 * cell widgets are rebuilt after `revert()` resolves), or after 5 s. */
async function reloaded(panel: INotebookPanelLike, keys: string[]): Promise<void> {
  const done = () => {
    const cells = panel.content.widgets;
    return cells.length === keys.length && cells.every((cell, i) => cellKey(cell) === keys[i]);
  };
  for (let waited = 0; waited < 5000 && !done(); waited += 50) {
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

/** Stamp a key into the notebook's metadata in the browser (saved with the notebook). */
function stampNotebookKey(panel: INotebookPanelLike, course: string): string {
  const model = panel.content.model;
  const meta = { ...(model?.getMetadata('cohortlab') ?? {}) };
  if (!meta.notebook_key) {
    meta.notebook_key = crypto.randomUUID().replace(/-/g, '');
    meta.course = meta.course ?? course;
    model?.setMetadata('cohortlab', meta);
  }
  return meta.notebook_key;
}
