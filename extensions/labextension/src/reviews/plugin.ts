import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { ICohortLabClient } from '../tokens';
import { onNotebookCreated } from '../untrusted';
import { ReviewAPI } from './api';
import { FeedbackSheet } from './feedback';
import {
  asReviewPanel,
  cellIndex,
  IReviewPanel,
  protectPanel,
  REVIEW_ROOT,
  reviewMeta
} from './notebooks';
import { ReviewsPanel } from './panel';
import { ResultsView } from './results';
import { ReviewSheet } from './sheet';
import { IReviewMeta } from './types';

const COMMENT_CELL = 'cohortlab:review-comment-cell';
const COMMENT_OUTPUT = 'cohortlab:review-comment-output';
const OPEN_RESULTS = 'cohortlab:review-results';
const REVIEW_SELECTOR = '.cl-ReviewNotebook[data-cl-review-kind="review"]';

/**
 * Peer review in JupyterLab: the "Peer review" panel, review copies opened beside their
 * review sheet, and the authors' feedback. Copies are recognised by their folder
 * (`peer-review/`) as soon as their panel is made, before any kernel could start.
 */
class ReviewController {
  constructor(
    private readonly app: JupyterFrontEnd,
    client: ICohortLabClient,
    private readonly rendermime: IRenderMimeRegistry,
    private readonly shell: ILabShell
  ) {
    this.api = new ReviewAPI(client);
    this.list = new ReviewsPanel(this.api, {
      openReview: (c, a, n) => this.openReview(c, a, n),
      openFeedback: (c, a) => this.openFeedback(c, a),
      openResults: (c, a, canEdit) => this.openResults(c, a, canEdit)
    });
    shell.add(this.list, 'left', { rank: 860 });
    this.watchNotebooks();
    this.addCommands();
  }

  private watchNotebooks(): void {
    onNotebookCreated(this.app, widget => this.adopt(widget));
  }

  private adopt(widget: Widget): void {
    const panel = asReviewPanel(widget);
    if (!panel) {
      return;
    }
    const folder = panel.context.path.split('/').slice(0, -1).join('/');
    protectPanel(panel, () => this.sandbox.get(folder));
    void panel.context.ready.then(() => {
      const meta = reviewMeta(panel);
      if (meta) {
        this.sheetOf(meta)?.decorateNotebooks();
      }
    });
  }

  private key(meta: Pick<IReviewMeta, 'kind' | 'course' | 'assignment' | 'submission'>): string {
    return JSON.stringify([meta.kind, meta.course, meta.assignment, meta.submission ?? null]);
  }

  private sheetOf(meta: IReviewMeta): ReviewSheet | FeedbackSheet | undefined {
    const sheet = this.sheets.get(this.key(meta));
    return sheet && !sheet.isDisposed ? sheet : undefined;
  }

  /** The open copies of one review (or of my feedback). */
  private panelsOf(meta: Omit<IReviewMeta, 'notebook'>): IReviewPanel[] {
    const out: IReviewPanel[] = [];
    for (const widget of this.shell.widgets('main')) {
      const panel = asReviewPanel(widget);
      const m = panel ? reviewMeta(panel) : null;
      if (panel && m && this.key(m) === this.key(meta)) {
        out.push(panel);
      }
    }
    return out;
  }

  async openReview(course: string, assignment: string, submission: number): Promise<void> {
    const written = await this.api.writeCopy(course, assignment, submission);
    this.sandbox.set(written.folder, written.sandbox);
    const meta = { kind: 'review' as const, course, assignment, submission };
    let sheet = this.sheetOf({ ...meta, notebook: '' }) as ReviewSheet | undefined;
    if (!sheet) {
      sheet = new ReviewSheet(this.api, this.rendermime, course, assignment, submission, () =>
        this.panelsOf(meta)
      );
      sheet.saved.connect(() => void this.list.refresh());
      this.sheets.set(this.key(meta), sheet);
    }
    await this.openBeside(written.paths, sheet);
  }

  async openFeedback(course: string, assignment: string): Promise<void> {
    // Fetched first: "not released" or "no submission" is said in the panel, nothing opens.
    const feedback = await this.api.feedback(course, assignment);
    const written = await this.api.writeFeedbackCopy(course, assignment);
    this.sandbox.set(written.folder, written.sandbox);
    const meta = { kind: 'feedback' as const, course, assignment };
    let sheet = this.sheetOf({ ...meta, notebook: '' }) as FeedbackSheet | undefined;
    if (!sheet) {
      sheet = new FeedbackSheet(this.api, this.rendermime, course, assignment, () =>
        this.panelsOf(meta)
      );
      this.sheets.set(this.key(meta), sheet);
    }
    sheet.setFeedback(feedback);
    await this.openBeside(written.paths, sheet);
  }

  /** The staff's results of a round in the main area (one tab per round, brought forward). */
  async openResults(course: string, assignment: string, canEdit: boolean): Promise<void> {
    const key = JSON.stringify([course, assignment]);
    let view = this.results.get(key);
    if (view && !view.isDisposed && view.canEdit !== canEdit) {
      view.dispose();
    }
    if (!view || view.isDisposed) {
      view = new ResultsView(this.api, course, assignment, canEdit);
      this.results.set(key, view);
    } else {
      void view.refresh();
    }
    if (!view.isAttached) {
      this.shell.add(view, 'main');
    }
    this.shell.activateById(view.id);
  }

  /** The copy's notebooks as tabs, the sheet split to their right. */
  private async openBeside(paths: string[], sheet: ReviewSheet | FeedbackSheet): Promise<void> {
    let first: Widget | null = null;
    for (const path of paths) {
      const widget: Widget | undefined = await this.app.commands.execute('docmanager:open', {
        path,
        ...(first ? { options: { ref: first.id, mode: 'tab-after' } } : {})
      });
      first = first ?? widget ?? null;
    }
    const panel = asReviewPanel(first);
    if (panel) {
      await panel.context.ready;
    }
    if (!sheet.isAttached && first) {
      this.shell.add(sheet, 'main', { ref: first.id, mode: 'split-right' });
    }
    sheet.decorateNotebooks();
    if (first) {
      this.shell.activateById(first.id);
    }
  }

  private currentReview(): { panel: IReviewPanel; meta: IReviewMeta } | null {
    const panel = asReviewPanel(this.shell.currentWidget);
    const meta = panel ? reviewMeta(panel) : null;
    return panel && meta && meta.kind === 'review' ? { panel, meta } : null;
  }

  private addCommands(): void {
    const { commands, contextMenu } = this.app;
    commands.addCommand(COMMENT_CELL, {
      label: 'Comment on This Cell (Peer Review)',
      caption: 'Add a review comment pinned to the selected cell',
      isEnabled: () => {
        const found = this.currentReview();
        return (
          !!found?.panel.content.activeCell && cellIndex(found.panel.content.activeCell) !== null
        );
      },
      execute: () => {
        const found = this.currentReview();
        const cell = found?.panel.content.activeCell;
        const index = cell ? cellIndex(cell) : null;
        if (!found || index === null) {
          return;
        }
        const sheet = this.sheetOf(found.meta);
        if (sheet instanceof ReviewSheet) {
          sheet.addComment(found.meta.notebook, index);
        }
      }
    });
    commands.addCommand(OPEN_RESULTS, {
      label: args => `Peer Review Results${args.assignment ? `: ${args.assignment}` : ''}`,
      caption: "Open a round's peer review results (course staff)",
      execute: args =>
        this.openResults(String(args.course), String(args.assignment), args.editable !== false)
    });
    commands.addCommand(COMMENT_OUTPUT, {
      label: 'Comment on This Output (Peer Review)',
      execute: () => {
        const found = this.currentReview();
        const node = this.app.contextMenuHitTest(n => n.classList.contains('jp-OutputArea-child'));
        if (!found || !node) {
          return;
        }
        const cellNode = node.closest('.jp-Cell');
        const cell = found.panel.content.widgets.find(w => w.node === cellNode);
        const index = cell ? cellIndex(cell) : null;
        const output = Array.from(node.parentElement?.children ?? [])
          .filter(c => c.classList.contains('jp-OutputArea-child'))
          .indexOf(node);
        const sheet = this.sheetOf(found.meta);
        if (index !== null && sheet instanceof ReviewSheet) {
          sheet.addComment(found.meta.notebook, index, output >= 0 ? output : null);
        }
      }
    });
    contextMenu.addItem({
      command: COMMENT_OUTPUT,
      selector: `${REVIEW_SELECTOR} .jp-OutputArea-child`,
      rank: 0
    });
    contextMenu.addItem({
      command: COMMENT_CELL,
      selector: `${REVIEW_SELECTOR} .jp-Cell`,
      rank: 0
    });
    commands.addKeyBinding({
      command: COMMENT_CELL,
      keys: ['Accel Alt M'],
      selector: REVIEW_SELECTOR
    });
  }

  private readonly api: ReviewAPI;
  private readonly list: ReviewsPanel;
  private readonly sheets = new Map<string, ReviewSheet | FeedbackSheet>();
  private readonly results = new Map<string, ResultsView>();
  /** What the review kernel gets in each copy's folder, as the server said when writing. */
  private readonly sandbox = new Map<string, string>();
}

export const reviewPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:peer-review',
  description: 'Peer review in JupyterLab: my reviews, the review copies and my feedback.',
  autoStart: true,
  requires: [ICohortLabClient, IRenderMimeRegistry, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    client: ICohortLabClient,
    rendermime: IRenderMimeRegistry,
    shell: ILabShell
  ) => {
    new ReviewController(app, client, rendermime, shell);
  }
};

export { REVIEW_ROOT };
