/**
 * Review copies open as ordinary JupyterLab notebooks, made safe here (without a build-time
 * dependency on @jupyterlab/notebook: only a few members of a NotebookPanel are used).
 *
 * - No kernel starts when a copy opens; a banner says whose code it is and starts the
 *   sandboxed review kernel only on an explicit "Run it in the review kernel".
 * - Any other kernel chosen for a copy is shut down at once: a peer's code never runs where
 *   the reviewer's hub token is.
 * - Cells stay untrusted, even after running them or "Trust notebook": HTML is sanitized and
 *   JavaScript outputs do not run, whatever the peer's code prints.
 * - Comms are off on the review kernel's connection, so widget front ends (which may load
 *   and run JavaScript sent by the kernel) are never created.
 */
import { Dialog, ISessionContext, showDialog } from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { el } from '../discussions/render';
import { ITrustCellModel, keepUntrusted } from '../untrusted';
import { ICellInfo, IReviewMeta } from './types';

export const REVIEW_ROOT = 'peer-review/';
export const REVIEW_KERNEL = 'cohortlab-review';
const META = 'cohortlab_review';

interface ICellModelLike extends ITrustCellModel {
  getMetadata(key: string): any;
}

export interface IReviewCell extends Widget {
  model: ICellModelLike;
}

export interface IReviewPanel extends Widget {
  content: Widget & {
    widgets: ReadonlyArray<IReviewCell>;
    activeCell: IReviewCell | null;
    activeCellIndex: number;
    model: {
      getMetadata(key: string): any;
      cells: Iterable<ICellModelLike> & {
        changed: ISignal<any, { newValues: ICellModelLike[] }>;
      };
    } | null;
  };
  context: { path: string; ready: Promise<void>; sessionContext: ISessionContext };
  contentHeader?: { addWidget(widget: Widget): void };
}

export function asReviewPanel(widget: unknown): IReviewPanel | null {
  const panel = widget as any;
  const path = panel?.context?.path;
  if (
    panel?.content?.widgets &&
    panel?.context?.sessionContext &&
    typeof path === 'string' &&
    path.startsWith(REVIEW_ROOT) &&
    path.endsWith('.ipynb')
  ) {
    return panel as IReviewPanel;
  }
  return null;
}

export function reviewMeta(panel: IReviewPanel): IReviewMeta | null {
  const meta = panel.content.model?.getMetadata(META);
  return meta && typeof meta.course === 'string' ? (meta as IReviewMeta) : null;
}

/** Where a cell of the copy points in the submission (cell i of the copy is cell i). */
export function cellIndex(cell: IReviewCell): number | null {
  const index = cell.model.getMetadata(META)?.index;
  return typeof index === 'number' ? index : null;
}

export function sameReview(a: IReviewMeta, b: IReviewMeta): boolean {
  return (
    a.kind === b.kind &&
    a.course === b.course &&
    a.assignment === b.assignment &&
    (a.submission ?? null) === (b.submission ?? null)
  );
}

const SANDBOX_TEXT: Record<string, string> = {
  namespaces:
    'The review kernel holds no hub token or CohortLab credential, has no network, does not ' +
    'know who you are, sees no other process and none of your files, and writes only in ' +
    'this folder.',
  environment:
    'The review kernel holds no hub token or CohortLab credential, but on this server it ' +
    'still runs as you, with the network, and can read your files.',
  none:
    'This server cannot isolate a peer’s code (it refuses user namespaces), so the review ' +
    'kernel does not start here: read the code and its outputs.',
  unknown: 'The review kernel holds no hub token or CohortLab credential.'
};

/** Paths whose owner said "I understand" in this page (asked again after a reload). */
const acknowledged = new Set<string>();

/**
 * Take charge of a copy's panel as soon as it is created (before its session starts):
 * no automatic kernel, the banner, and the kernel, trust and comm guards.
 */
export function protectPanel(panel: IReviewPanel, sandbox: () => string | undefined): void {
  const session = panel.context.sessionContext;
  session.kernelPreference = {
    ...session.kernelPreference,
    name: REVIEW_KERNEL,
    shouldStart: false,
    autoStartDefault: false
  };
  panel.addClass('cl-ReviewNotebook');
  const banner = new ReviewBanner(panel, sandbox);
  if (panel.contentHeader) {
    panel.contentHeader.addWidget(banner);
  }
  session.kernelChanged.connect((_, change) => {
    const kernel = change.newValue;
    if (kernel && kernel.name !== REVIEW_KERNEL) {
      void session.shutdown();
      void showDialog({
        title: 'Submissions run only in the review kernel',
        body:
          'This is another learner’s code. It may only run in the sandboxed review kernel, ' +
          'which holds none of your credentials; the kernel you chose was shut down.',
        buttons: [Dialog.okButton({ label: 'OK' })]
      });
    } else if (kernel) {
      // Widget front ends run JavaScript the kernel sends: none for a peer's code.
      (kernel as any).handleComms = false;
      if (!acknowledged.has(panel.context.path)) {
        void confirmRun(panel, sandbox()).then(ok => {
          if (ok) {
            acknowledged.add(panel.context.path);
          } else {
            void session.shutdown();
          }
        });
      }
    }
    banner.update();
  });
  session.statusChanged.connect(() => banner.update());
  void panel.context.ready.then(() => {
    keepUntrusted(panel.content.model);
    panel.node.dataset.clReviewKind = reviewMeta(panel)?.kind ?? 'review';
    banner.update();
  });
}

async function confirmRun(panel: IReviewPanel, sandbox: string | undefined): Promise<boolean> {
  const result = await showDialog({
    title: 'Run another learner’s code?',
    body: warningText(sandbox),
    buttons: [
      Dialog.cancelButton({ label: 'Do not run' }),
      Dialog.warnButton({ label: 'I understand, run it' })
    ]
  });
  return result.button.accept;
}

function warningText(sandbox: string | undefined): string {
  return (
    'This notebook is someone else’s submission. Its outputs are shown untrusted (no HTML ' +
    'scripts or JavaScript run). Running its code is up to you: ' +
    SANDBOX_TEXT[sandbox ?? 'unknown'] +
    ' Its code can still use your time (CPU and memory); stop the kernel if it misbehaves.'
  );
}

/** The line above a copy: whose code this is, and the one way to run it. */
class ReviewBanner extends Widget {
  constructor(
    private readonly panel: IReviewPanel,
    private readonly sandbox: () => string | undefined
  ) {
    super();
    this.addClass('cl-ReviewBanner');
    this.node.setAttribute('role', 'note');
    this.node.dataset.testid = 'cl-review-banner';
    this.update();
  }

  update(): void {
    const session = this.panel.context.sessionContext;
    const running = !!session.session?.kernel && !session.hasNoKernel;
    const feedback = this.panel.node.dataset.clReviewKind === 'feedback';
    this.node.dataset.state = running ? 'running' : 'stopped';
    const text = el(
      'span',
      {},
      feedback
        ? 'Your submission, as your reviewers saw it (anonymous copy, untrusted).'
        : running
          ? 'Another learner’s code, running in the sandboxed review kernel. '
          : 'Another learner’s code (anonymous copy). Outputs are untrusted; no code has run. '
    );
    const parts: HTMLElement[] = [text];
    if (!feedback && !running) {
      parts.push(el('span', {}, SANDBOX_TEXT[this.sandbox() ?? 'unknown'] + ' '));
      if (this.sandbox() === 'none') {
        this.node.replaceChildren(...parts);
        this.fitToText();
        return;
      }
      const start = el('button', { type: 'button', class: 'jp-Button cl-ReviewBanner-run' });
      start.textContent = 'I understand, run it in the review kernel';
      start.dataset.testid = 'cl-review-run';
      start.addEventListener('click', () => {
        acknowledged.add(this.panel.context.path);
        void session.changeKernel({ name: REVIEW_KERNEL });
      });
      parts.push(start);
    }
    this.node.replaceChildren(...parts);
    this.fitToText();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.fitToText();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    const width = this.node.offsetWidth;
    if (width !== this.lastWidth) {
      this.lastWidth = width;
      this.fitToText();
    }
  }

  /** The content header lays its widgets out by their CSS minimum height: give it ours. */
  private fitToText(tries = 10): void {
    requestAnimationFrame(() => {
      if (!this.isAttached || !this.node.offsetWidth) {
        if (tries > 0 && !this.isDisposed) {
          this.fitToText(tries - 1);
        }
        return;
      }
      const style = this.node.style;
      const [height, minHeight] = [style.height, style.minHeight];
      // Lumino's panels set `contain: strict`: the content's height shows as overflow.
      style.height = '0px';
      style.minHeight = '';
      const natural = this.node.scrollHeight;
      style.height = height;
      style.minHeight = minHeight;
      if (natural && minHeight !== `${natural}px`) {
        style.minHeight = `${natural}px`;
        this.parent?.fit();
      }
    });
  }

  private lastWidth = -1;
}

/**
 * Marks on each cell of a copy: changed or added by the learner (against the released
 * template), a Comment button (reviews only), and how many comments the cell has.
 */
export function decorate(
  panel: IReviewPanel,
  statuses: ICellInfo[] | null,
  counts: Map<number, number>,
  onComment: ((index: number) => void) | null
): void {
  for (const cell of panel.content.widgets) {
    cell.node.querySelectorAll(':scope > .cl-ReviewDeco').forEach(n => n.remove());
    const index = cellIndex(cell);
    if (index === null) {
      continue;
    }
    const status = statuses?.[index]?.status ?? 'unknown';
    cell.node.dataset.clReviewStatus = status;
    const deco = el('div', { class: 'cl-ReviewDeco' });
    if (status === 'changed' || status === 'added') {
      const mark = el(
        'span',
        { class: 'cl-ReviewMark', title: 'Compared with the released assignment' },
        status === 'changed' ? 'Changed by the learner' : 'Added by the learner'
      );
      mark.dataset.testid = 'cl-review-changed';
      mark.dataset.status = status;
      deco.append(mark);
    }
    const count = counts.get(index) ?? 0;
    if (count) {
      const badge = el('span', { class: 'cl-ReviewCount' }, `💬 ${count}`);
      badge.dataset.testid = 'cl-review-comment-count';
      badge.setAttribute('aria-label', `${count} comment${count === 1 ? '' : 's'} on this cell`);
      deco.append(badge);
    }
    if (onComment) {
      const button = el('button', {
        type: 'button',
        class: 'jp-Button cl-ReviewCommentButton',
        'aria-label': `Comment on cell ${index + 1}`,
        title: 'Comment on this cell (Ctrl+Alt+M)'
      });
      button.textContent = 'Comment';
      button.dataset.testid = 'cl-review-comment-cell';
      button.addEventListener('click', event => {
        event.stopPropagation();
        onComment(index);
      });
      deco.append(button);
    }
    if (deco.childElementCount) {
      // appended (Lumino places the cell's own parts by child index); CSS shows it first
      cell.node.append(deco);
    }
  }
}

/** Select and show the copy's cell `index` (the submission's cell `index`). */
export function showCell(panel: IReviewPanel, index: number): void {
  const at = panel.content.widgets.findIndex(cell => cellIndex(cell) === index);
  if (at < 0) {
    return;
  }
  const content = panel.content as any;
  content.activeCellIndex = at;
  void content.scrollToItem?.(at)?.catch?.(() => undefined);
}
