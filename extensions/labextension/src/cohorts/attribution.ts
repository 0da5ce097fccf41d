import { INotebookPanelLike } from '../discussions/notebook';
import { attributionLine, ICellRecord, workspaceInfo, IWorkspaceInfo } from './info';

/** How often the open notebook's attribution and the presence list are refreshed. */
export const REFRESH_MS = 3000;

/**
 * "last edited by X · last run by Y" under each cell of the notebook in view, as the
 * workspace server recorded it from the authenticated connections (never from the
 * shared document, which any member could write).
 */
export class CellAttribution {
  constructor(private readonly onInfo: (info: IWorkspaceInfo) => void) {}

  /** Follow this notebook (null: none in view). */
  follow(panel: INotebookPanelLike | null): void {
    this._panel = panel;
    void this.refresh();
  }

  start(): void {
    if (this._timer === null) {
      this._timer = window.setInterval(() => void this.refresh(), REFRESH_MS);
    }
  }

  dispose(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
  }

  async refresh(): Promise<void> {
    const panel = this._panel;
    let info: IWorkspaceInfo | null;
    try {
      info = await workspaceInfo(panel?.context.path ?? '');
    } catch {
      return; // the server is busy or restarting: keep what is shown
    }
    if (!info) {
      return;
    }
    this.onInfo(info);
    if (panel && panel === this._panel) {
      render(panel, info.cells, info.me);
    }
  }

  private _panel: INotebookPanelLike | null = null;
  private _timer: number | null = null;
}

function render(
  panel: INotebookPanelLike,
  cells: Record<string, ICellRecord>,
  me: string | null
): void {
  for (const cell of panel.content.widgets) {
    const text = attributionLine(cells[cell.model.id], me);
    let line = cell.node.querySelector<HTMLElement>(':scope > .cl-CellAttribution');
    if (!text) {
      line?.remove();
      continue;
    }
    if (!line) {
      line = document.createElement('div');
      line.className = 'cl-CellAttribution';
      line.dataset.testid = 'cl-cell-attribution';
      cell.node.appendChild(line);
    }
    if (line.textContent !== text) {
      line.textContent = text;
    }
  }
}
