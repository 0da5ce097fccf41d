import { INotebookPanelLike } from '../discussions/notebook';
import { ICohortLabClient } from '../tokens';

/** How often my own edits and runs are added to my counts in the service. */
export const REPORT_MS = 15000;
/** Keys the kernel's results change: written by the browser that ran the cell. */
const RUN_KEYS = new Set(['outputs', 'execution_count', 'execution_state']);

interface ICounts {
  edited: Set<string>;
  runs: number;
}

/**
 * Counts what I do in the workspace's notebooks and reports it with my own session.
 *
 * Only local changes count (Yjs marks a change this browser made as `local`; changes from
 * others arrive as remote updates). An edit is a cell I changed within one reporting
 * period, however many keystrokes; a run is a cell whose execution count I set (the
 * browser that runs a cell writes the kernel's answer into the shared notebook).
 */
export class ActivityReporter {
  constructor(
    private readonly client: ICohortLabClient,
    private readonly course: string,
    private readonly cohort: string
  ) {}

  watch(panel: INotebookPanelLike): void {
    if (this._watched.has(panel)) {
      return;
    }
    const ydoc = (panel.content.model as any)?.sharedModel?.ydoc;
    const ycells = ydoc?.getArray?.('cells');
    if (!ycells) {
      return;
    }
    this._watched.add(panel);
    const observer = (events: any[], transaction: any) => {
      if (!transaction.local) {
        return;
      }
      const counts = this._counts(panel.context.path);
      for (const event of events) {
        const path: any[] = event.path ?? [];
        if (path.length === 0) {
          continue; // cells added or moved: their content changes count below
        }
        const id = ycells.get(path[0])?.get('id');
        if (!id) {
          continue;
        }
        const key = path.length > 1 ? path[1] : null;
        if (key === null) {
          const keys: Map<string, any> = event.changes?.keys ?? new Map();
          const count = event.target?.get?.('execution_count');
          if (keys.has('execution_count') && typeof count === 'number') {
            counts.runs += 1;
          }
          if ([...keys.keys()].some(k => !RUN_KEYS.has(k))) {
            counts.edited.add(id);
          }
        } else if (!RUN_KEYS.has(key)) {
          counts.edited.add(id);
        }
      }
    };
    ycells.observeDeep(observer);
    panel.disposed.connect(() => {
      ycells.unobserveDeep(observer);
      this._watched.delete(panel);
    });
  }

  start(): void {
    if (this._timer === null) {
      this._timer = window.setInterval(() => void this.flush(), REPORT_MS);
      window.addEventListener('beforeunload', () => void this.flush());
    }
  }

  /** Send what was counted since the last report (kept for the next one on failure). */
  async flush(): Promise<void> {
    const pending = [...this._pending.entries()];
    this._pending.clear();
    const path = [
      'courses',
      encodeURIComponent(this.course),
      'cohorts',
      encodeURIComponent(this.cohort),
      'activity'
    ].join('/');
    for (const [notebook, counts] of pending) {
      const edits = Math.min(counts.edited.size, 1000);
      const runs = Math.min(counts.runs, 1000);
      if (edits === 0 && runs === 0) {
        continue;
      }
      try {
        await this.client.requestAPI(path, {
          method: 'POST',
          body: JSON.stringify({ notebook, edits, runs })
        });
      } catch {
        const again = this._counts(notebook);
        counts.edited.forEach(id => again.edited.add(id));
        again.runs += counts.runs;
      }
    }
  }

  private _counts(notebook: string): ICounts {
    let counts = this._pending.get(notebook);
    if (!counts) {
      counts = { edited: new Set(), runs: 0 };
      this._pending.set(notebook, counts);
    }
    return counts;
  }

  private _pending = new Map<string, ICounts>();
  private _watched = new Set<INotebookPanelLike>();
  private _timer: number | null = null;
}
