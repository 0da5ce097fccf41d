import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { el, errorText, renderMarkdown, uniqueId } from '../discussions/render';
import { ReviewAPI } from './api';
import { markdownField, points, when } from './fields';
import { decorate, IReviewPanel, showCell } from './notebooks';
import { ICellComment, ICriterion, IScore, ISubmissionView } from './types';

interface IDraft {
  scores: Record<string, IScore>;
  comment: string;
  cell_comments: ICellComment[];
}

/** Sheets with unsaved changes, for the page's "leave this page?" guard. */
const dirtySheets = new Set<ReviewSheet>();
window.addEventListener('beforeunload', event => {
  if (dirtySheets.size) {
    event.preventDefault();
    event.returnValue = '';
  }
});

/**
 * The review of one submission, beside its notebook: the rubric (each criterion's score
 * and comment), an overall comment, the comments pinned to cells and outputs, and
 * Save draft / Submit. Editable until the reviewer's due date, read-only after it.
 */
export class ReviewSheet extends Widget {
  constructor(
    private readonly api: ReviewAPI,
    private readonly rendermime: IRenderMimeRegistry,
    readonly course: string,
    readonly assignment: string,
    readonly number: number,
    private readonly panels: () => IReviewPanel[]
  ) {
    super();
    this.id = `cl-review-sheet-${uniqueId('s')}`;
    this.addClass('cl-ReviewSheet');
    this.title.label = `Review: Submission ${number}`;
    this.title.caption = `Your review of Submission ${number} (${assignment})`;
    this.title.closable = true;
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', this.title.caption);
    this.node.dataset.testid = 'cl-review-sheet';
    this.node.replaceChildren(el('p', { class: 'cl-Review-empty' }, 'Loading the review…'));
    void this.load();
  }

  /** Emitted after a save, so the list can show the new state. */
  get saved(): ISignal<this, void> {
    return this._saved;
  }

  get dirty(): boolean {
    return this._dirty;
  }

  async load(): Promise<void> {
    try {
      this.view = await this.api.submission(this.course, this.assignment, this.number);
    } catch (reason) {
      this.node.replaceChildren(
        el('p', { class: 'cl-Review-error', role: 'alert' }, errorText(reason))
      );
      return;
    }
    const review = this.view.review;
    this.draft = {
      scores: structuredClone(review?.scores ?? {}),
      comment: review?.comment ?? '',
      cell_comments: structuredClone(review?.cell_comments ?? [])
    };
    this.setDirty(false);
    this.render();
  }

  /** Pin a new comment to a cell (and an output) of the copy and put the cursor in it. */
  addComment(notebook: string, cell: number, output: number | null = null): void {
    if (!this.view || !this.draft || !this.editable) {
      return;
    }
    this.draft.cell_comments.push({ notebook, cell, output, text: '' });
    this.setDirty(true);
    this.render();
    const boxes = this.node.querySelectorAll<HTMLTextAreaElement>(
      '[data-testid="cl-review-cell-comment-text"]'
    );
    boxes[boxes.length - 1]?.focus();
  }

  /** Redraw the marks on the open notebooks of this submission. */
  decorateNotebooks(): void {
    if (!this.view) {
      return;
    }
    for (const panel of this.panels()) {
      const name = panel.context.path.split('/').pop() ?? '';
      const copy = this.view.submission.notebooks.find(nb => nb.name === name);
      const counts = new Map<number, number>();
      for (const c of this.draft?.cell_comments ?? []) {
        if (c.notebook === name) {
          counts.set(c.cell, (counts.get(c.cell) ?? 0) + 1);
        }
      }
      decorate(
        panel,
        copy?.cells ?? null,
        counts,
        this.editable ? index => this.addComment(name, index) : null
      );
    }
  }

  private get editable(): boolean {
    return !!this.view?.assignment.can_edit;
  }

  private setDirty(dirty: boolean): void {
    this._dirty = dirty;
    this.node.dataset.dirty = String(dirty);
    this.title.className = dirty ? 'cl-ReviewSheet-dirty' : '';
    if (dirty) {
      dirtySheets.add(this);
    } else {
      dirtySheets.delete(this);
    }
  }

  private changed(): void {
    if (!this._dirty) {
      this.setDirty(true);
      this.status('Unsaved changes.');
    }
  }

  private render(): void {
    const view = this.view!;
    const draft = this.draft!;
    const a = view.assignment;
    const review = view.review;
    const head = el('div', { class: 'cl-Review-head' });
    head.append(
      el('h2', {}, `Review of ${view.submission.name}`),
      el(
        'p',
        { class: 'cl-Review-meta' },
        `${this.assignment} · due ${when(a.due_at)} · ` +
          (review?.status === 'submitted'
            ? `submitted ${when(review.submitted_at)}`
            : review
              ? `draft saved ${when(review.updated_at)}`
              : 'not started')
      )
    );
    const parts: HTMLElement[] = [head];
    if (!this.editable) {
      const closed = el(
        'p',
        { class: 'cl-Review-closed', role: 'note' },
        `Reviewing closed (due ${when(a.due_at)}): your review is shown read-only.`
      );
      closed.dataset.testid = 'cl-review-readonly';
      parts.push(closed);
    } else if (review?.status === 'submitted') {
      parts.push(
        el(
          'p',
          { class: 'cl-Review-note' },
          `Submitted. You can still change it until ${when(a.due_at)}.`
        )
      );
    }
    parts.push(el('h3', {}, 'Rubric'));
    const rubric = el('div', { class: 'cl-Review-rubric' });
    for (const criterion of view.rubric) {
      rubric.append(this.criterionField(criterion, draft));
    }
    if (!view.rubric.length) {
      rubric.append(el('p', { class: 'cl-Review-empty' }, 'This round has no rubric criteria.'));
    }
    parts.push(rubric);
    parts.push(
      markdownField(this.rendermime, {
        label: 'Overall comment (Markdown)',
        value: draft.comment,
        testid: 'cl-review-comment',
        readOnly: !this.editable,
        rows: 4,
        onInput: value => {
          draft.comment = value;
          this.changed();
        }
      })
    );
    parts.push(this.cellComments(draft));
    parts.push(this.actions());
    this.node.replaceChildren(...parts);
    this.decorateNotebooks();
  }

  private criterionField(c: ICriterion, draft: IDraft): HTMLElement {
    const box = el('fieldset', { class: 'cl-Review-criterion' });
    box.dataset.testid = 'cl-review-criterion';
    box.dataset.key = c.key;
    box.append(el('legend', {}, `${c.title} (0–${points(c.max_points)})`));
    if (c.description) {
      const desc = el('div', { class: 'cl-Review-desc' });
      renderMarkdown(this.rendermime, c.description, desc);
      box.append(desc);
    }
    if (c.kind === 'nbgrader' && c.grade_id) {
      const go = el('button', { type: 'button', class: 'jp-Button cl-Review-link' });
      go.textContent = 'Show the cell this grades';
      go.addEventListener('click', () => this.showGraded(c));
      box.append(go);
    }
    const entry = (draft.scores[c.key] ??= { score: null, comment: '' });
    const id = uniqueId('cl-score');
    const row = el('div', { class: 'cl-Review-score' });
    const input = el('input', {
      id,
      type: 'number',
      min: '0',
      max: String(c.max_points),
      step: 'any',
      inputmode: 'decimal'
    });
    input.dataset.testid = 'cl-review-score';
    input.value = entry.score === null || entry.score === undefined ? '' : String(entry.score);
    input.readOnly = !this.editable;
    input.addEventListener('input', () => {
      const value = input.value.trim();
      entry.score = value === '' ? null : Number(value);
      this.changed();
    });
    row.append(el('label', { for: id }, `Score (0 to ${c.max_points})`), input);
    box.append(row);
    box.append(
      markdownField(this.rendermime, {
        label: `Comment on ${c.title}`,
        value: entry.comment ?? '',
        testid: 'cl-review-criterion-comment',
        readOnly: !this.editable,
        rows: 2,
        onInput: value => {
          entry.comment = value;
          this.changed();
        }
      })
    );
    return box;
  }

  private showGraded(c: ICriterion): void {
    for (const panel of this.panels()) {
      const at = panel.content.widgets.findIndex(
        cell => cell.model.getMetadata('nbgrader')?.grade_id === c.grade_id
      );
      if (at >= 0) {
        const content = panel.content as any;
        content.activeCellIndex = at;
        void content.scrollToItem?.(at)?.catch?.(() => undefined);
        return;
      }
    }
    this.status(`The cell ${c.grade_id} is not in an open notebook of this submission.`);
  }

  private cellComments(draft: IDraft): HTMLElement {
    const section = el('section', { class: 'cl-Review-cells', 'aria-label': 'Comments on cells' });
    section.append(el('h3', {}, 'Comments on cells'));
    if (!draft.cell_comments.length) {
      section.append(
        el(
          'p',
          { class: 'cl-Review-empty' },
          this.editable
            ? 'None yet. Use a cell’s Comment button, Ctrl+Alt+M on the selected cell, or the ' +
                'context menu of an output.'
            : 'None.'
        )
      );
    }
    const list = el('ol', { class: 'cl-Review-cellList' });
    draft.cell_comments.forEach((comment, i) => {
      const item = el('li', { class: 'cl-Review-cellComment' });
      item.dataset.testid = 'cl-review-cell-comment';
      item.dataset.cell = String(comment.cell);
      const where =
        `${comment.notebook} · cell ${comment.cell + 1}` +
        (comment.output !== null && comment.output !== undefined
          ? ` · output ${comment.output + 1}`
          : '');
      const go = el('button', { type: 'button', class: 'jp-Button cl-Review-link' });
      go.textContent = where;
      go.title = 'Show this cell';
      go.addEventListener('click', () => {
        for (const panel of this.panels()) {
          if (panel.context.path.endsWith(`/${comment.notebook}`)) {
            showCell(panel, comment.cell);
          }
        }
      });
      const id = uniqueId('cl-cell-comment');
      const area = el('textarea', { id, rows: '2', class: 'cl-ReviewText' });
      area.setAttribute('aria-label', `Comment on ${where}`);
      area.dataset.testid = 'cl-review-cell-comment-text';
      area.value = comment.text;
      area.readOnly = !this.editable;
      area.addEventListener('input', () => {
        comment.text = area.value;
        this.changed();
      });
      item.append(go, area);
      if (this.editable) {
        const remove = el('button', {
          type: 'button',
          class: 'jp-Button cl-Review-remove',
          'aria-label': `Remove the comment on ${where}`
        });
        remove.textContent = 'Remove';
        remove.addEventListener('click', () => {
          draft.cell_comments.splice(i, 1);
          this.setDirty(true);
          this.render();
        });
        item.append(remove);
      }
      list.append(item);
    });
    section.append(list);
    return section;
  }

  private actions(): HTMLElement {
    const bar = el('div', { class: 'cl-Review-actions' });
    const submitted = this.view?.review?.status === 'submitted';
    if (this.editable) {
      if (!submitted) {
        const save = el('button', { type: 'button', class: 'jp-Button cl-Review-save' });
        save.textContent = 'Save draft';
        save.dataset.testid = 'cl-review-save';
        save.addEventListener('click', () => void this.save(false));
        bar.append(save);
      }
      const submit = el('button', {
        type: 'button',
        class: 'jp-Button jp-mod-accept cl-Review-submit'
      });
      submit.textContent = submitted ? 'Save changes' : 'Submit review';
      submit.dataset.testid = 'cl-review-submit';
      submit.addEventListener('click', () => void this.submit(submitted));
      bar.append(submit);
    }
    this.statusNode = el('p', { class: 'cl-Review-status', role: 'status', 'aria-live': 'polite' });
    this.statusNode.dataset.testid = 'cl-review-status';
    this.statusNode.textContent = this._statusText;
    bar.append(this.statusNode);
    return bar;
  }

  private status(text: string, error = false): void {
    this._statusText = text;
    if (this.statusNode) {
      this.statusNode.textContent = text;
      this.statusNode.setAttribute('role', error ? 'alert' : 'status');
      this.statusNode.dataset.state = error ? 'error' : 'ok';
    }
  }

  /** What the service would refuse, said before sending: empty cell comments, bad scores. */
  private problems(submit: boolean): string | null {
    const view = this.view!;
    const draft = this.draft!;
    const empty = draft.cell_comments.find(c => !c.text.trim());
    if (empty) {
      return `Write the comment on ${empty.notebook} cell ${empty.cell + 1}, or remove it.`;
    }
    for (const c of view.rubric) {
      const score = draft.scores[c.key]?.score;
      if (score !== null && score !== undefined && !(score >= 0 && score <= c.max_points)) {
        return `The score for ${c.title} must be a number from 0 to ${c.max_points}.`;
      }
      if (submit && (score === null || score === undefined)) {
        return `Score every criterion before submitting (missing: ${c.title}). Save a draft to finish later.`;
      }
    }
    return null;
  }

  private async submit(alreadySubmitted: boolean): Promise<void> {
    const problem = this.problems(true);
    if (problem) {
      this.status(problem, true);
      return;
    }
    if (!alreadySubmitted) {
      const due = this.view?.assignment.due_at;
      const ok = await showDialog({
        title: 'Submit your review?',
        body:
          `You can still change it until ${when(due)}, but it cannot become a draft again.`,
        buttons: [
          Dialog.cancelButton({ label: 'Keep editing' }),
          Dialog.okButton({ label: 'Submit' })
        ]
      });
      if (!ok.button.accept) {
        return;
      }
    }
    await this.save(true);
  }

  private async save(submit: boolean): Promise<void> {
    const problem = this.problems(submit);
    if (problem) {
      this.status(problem, true);
      return;
    }
    const draft = this.draft!;
    const scores: Record<string, IScore> = {};
    for (const [key, entry] of Object.entries(draft.scores)) {
      if (entry.score !== null || entry.comment) {
        scores[key] = { score: entry.score, comment: entry.comment ?? '' };
      }
    }
    this.status(submit ? 'Submitting…' : 'Saving…');
    try {
      const saved = await this.api.save(this.course, this.assignment, this.number, {
        scores,
        comment: draft.comment,
        cell_comments: draft.cell_comments.map(c => ({ ...c, text: c.text.trim() })),
        submit
      });
      this.view = { ...this.view!, review: saved.review, assignment: saved.assignment };
      this.setDirty(false);
      this._statusText = submit ? 'Review submitted.' : 'Draft saved.';
      this.render();
      this._saved.emit();
    } catch (reason) {
      this.status(errorText(reason), true);
    }
  }

  protected onCloseRequest(msg: Message): void {
    if (!this._dirty) {
      super.onCloseRequest(msg);
      return;
    }
    void showDialog({
      title: 'Close without saving?',
      body: 'Your review has changes that are not saved.',
      buttons: [
        Dialog.cancelButton({ label: 'Keep editing' }),
        Dialog.warnButton({ label: 'Discard changes' })
      ]
    }).then(result => {
      if (result.button.accept) {
        this.setDirty(false);
        this.close();
      }
    });
  }

  dispose(): void {
    dirtySheets.delete(this);
    super.dispose();
  }

  private view: ISubmissionView | null = null;
  private draft: IDraft | null = null;
  private _dirty = false;
  private _statusText = '';
  private statusNode: HTMLElement | null = null;
  private _saved = new Signal<this, void>(this);
}
