import { ICohortLabClient } from '../tokens';
import { cellKey, INotebookPanelLike } from './notebook';

/**
 * A small button on each discussed cell with its thread count; activating it selects
 * the cell and opens the discussion panel. One request per refresh for the whole notebook.
 */
export class CellBadges {
  constructor(
    private readonly client: ICohortLabClient,
    private readonly onOpen: (cellIndex: number) => void
  ) {}

  async update(panel: INotebookPanelLike, course: string, notebookKey: string): Promise<void> {
    const { counts } = await this.client.requestAPI<{ counts: Record<string, number> }>(
      `courses/${encodeURIComponent(course)}/thread-counts?notebook_key=${encodeURIComponent(notebookKey)}`
    );
    this.detach();
    panel.content.widgets.forEach((cell, index) => {
      const count = counts[cellKey(cell)] ?? 0;
      if (count === 0) {
        return;
      }
      const badge = document.createElement('button');
      badge.type = 'button';
      badge.className = 'cl-CellBadge';
      badge.dataset.testid = 'cl-cell-badge';
      badge.dataset.count = String(count);
      badge.textContent = `💬 ${count}`;
      badge.setAttribute(
        'aria-label',
        `${count} discussion thread${count === 1 ? '' : 's'} on this cell; open them`
      );
      badge.addEventListener('click', event => {
        event.stopPropagation();
        this.onOpen(index);
      });
      cell.node.appendChild(badge);
      this.badges.push(badge);
    });
  }

  detach(): void {
    for (const badge of this.badges) {
      badge.remove();
    }
    this.badges = [];
  }

  private badges: HTMLElement[] = [];
}
