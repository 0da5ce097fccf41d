import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { el, errorText, renderMarkdown, uniqueId } from '../discussions/render';
import { ReviewAPI } from './api';
import { points } from './fields';
import { cellIndex, IReviewPanel, showCell } from './notebooks';
import { IFeedback, IFeedbackReview } from './types';

/**
 * An author's feedback on one assignment, once the instructor released it: the final score
 * of each criterion, every review (scores, comments, the comments on cells, which are also
 * shown on the author's own notebook), and a helpfulness rating and a flag for each review.
 */
export class FeedbackSheet extends Widget {
  constructor(
    private readonly api: ReviewAPI,
    private readonly rendermime: IRenderMimeRegistry,
    readonly course: string,
    readonly assignment: string,
    private readonly panels: () => IReviewPanel[]
  ) {
    super();
    this.id = `cl-feedback-sheet-${uniqueId('f')}`;
    this.addClass('cl-ReviewSheet');
    this.title.label = `Feedback: ${assignment}`;
    this.title.caption = `Peer feedback on your ${assignment}`;
    this.title.closable = true;
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', this.title.caption);
    this.node.dataset.testid = 'cl-feedback-sheet';
    this.node.replaceChildren(el('p', { class: 'cl-Review-empty' }, 'Loading your feedback…'));
  }

  /** Show feedback already fetched (the opener fetched it to know whether there is any). */
  setFeedback(feedback: IFeedback): void {
    this.feedback = feedback;
    this.render();
  }

  /** Each commented cell of the author's notebook shows its comments under it. */
  decorateNotebooks(): void {
    const feedback = this.feedback;
    if (!feedback) {
      return;
    }
    for (const panel of this.panels()) {
      const name = panel.context.path.split('/').pop() ?? '';
      for (const cell of panel.content.widgets) {
        cell.node.querySelectorAll(':scope > .cl-ReviewDeco').forEach(n => n.remove());
        const index = cellIndex(cell);
        const notes = feedback.reviews.flatMap(r =>
          r.cell_comments
            .filter(c => c.notebook === name && c.cell === index)
            .map(c => ({ review: r, comment: c }))
        );
        if (index === null || !notes.length) {
          continue;
        }
        const box = el('div', { class: 'cl-ReviewDeco cl-FeedbackOnCell' });
        for (const { review, comment } of notes) {
          const note = el('div', { class: 'cl-FeedbackNote' });
          note.dataset.testid = 'cl-feedback-cell-comment';
          const who =
            review.label +
            (comment.output !== null && comment.output !== undefined
              ? `, on output ${comment.output + 1}`
              : '');
          note.append(el('strong', {}, `${who}: `));
          const body = el('div', {});
          renderMarkdown(this.rendermime, comment.text, body);
          note.append(body);
          box.append(note);
        }
        cell.node.append(box);
      }
    }
  }

  private render(): void {
    const f = this.feedback!;
    const parts: HTMLElement[] = [
      el('h2', {}, `Feedback on ${f.submission.name}`),
      el(
        'p',
        { class: 'cl-Review-meta' },
        `${f.assignment} · ${f.reviews.length} review${f.reviews.length === 1 ? '' : 's'}`
      ),
      el('h3', {}, 'Scores')
    ];
    const table = el('table', { class: 'cl-Feedback-scores' });
    table.dataset.testid = 'cl-feedback-scores';
    const head = el('tr', {});
    head.append(el('th', { scope: 'col' }, 'Criterion'), el('th', { scope: 'col' }, 'Score'));
    table.append(head);
    for (const c of f.rubric) {
      const row = el('tr', {});
      const final = f.scores[c.key];
      row.append(
        el('th', { scope: 'row' }, c.title),
        el(
          'td',
          {},
          final === null || final === undefined
            ? 'not scored'
            : `${final} of ${points(c.max_points)}`
        )
      );
      table.append(row);
    }
    parts.push(table);
    if (!f.reviews.length) {
      parts.push(el('p', { class: 'cl-Review-empty' }, 'No review of your work was submitted.'));
    }
    for (const review of f.reviews) {
      parts.push(this.reviewView(f, review));
    }
    this.node.replaceChildren(...parts);
    this.decorateNotebooks();
  }

  private reviewView(f: IFeedback, review: IFeedbackReview): HTMLElement {
    const box = el('section', { class: 'cl-Feedback-review', 'aria-label': review.label });
    box.dataset.testid = 'cl-feedback-review';
    box.append(el('h3', {}, review.label + (review.reviewer ? ` (${review.reviewer})` : '')));
    const list = el('dl', { class: 'cl-Feedback-criteria' });
    for (const c of f.rubric) {
      const entry = review.scores[c.key];
      list.append(
        el('dt', {}, c.title),
        el(
          'dd',
          {},
          entry?.score === null || entry?.score === undefined
            ? 'not scored'
            : `${entry.score} of ${points(c.max_points)}`
        )
      );
      if (entry?.comment) {
        const dd = el('dd', { class: 'cl-Feedback-comment' });
        renderMarkdown(this.rendermime, entry.comment, dd);
        list.append(dd);
      }
    }
    box.append(list);
    if (review.comment) {
      const overall = el('div', { class: 'cl-Feedback-comment' });
      renderMarkdown(this.rendermime, review.comment, overall);
      box.append(overall);
    }
    if (review.cell_comments.length) {
      const cells = el('ul', { class: 'cl-Review-cellList' });
      for (const c of review.cell_comments) {
        const item = el('li', {});
        const go = el('button', { type: 'button', class: 'jp-Button cl-Review-link' });
        go.textContent = `${c.notebook} · cell ${c.cell + 1}`;
        go.addEventListener('click', () => {
          for (const panel of this.panels()) {
            if (panel.context.path.endsWith(`/${c.notebook}`)) {
              showCell(panel, c.cell);
            }
          }
        });
        const text = el('div', {});
        renderMarkdown(this.rendermime, c.text, text);
        item.append(go, text);
        cells.append(item);
      }
      box.append(cells);
    }
    box.append(this.rating(f, review), this.flag(f, review));
    return box;
  }

  private rating(f: IFeedback, review: IFeedbackReview): HTMLElement {
    const group = el('fieldset', { class: 'cl-Feedback-rating' });
    group.dataset.testid = 'cl-feedback-helpfulness';
    group.append(el('legend', {}, 'How helpful was this review? (1 not at all, 5 very)'));
    const name = uniqueId('cl-helpful');
    for (let value = 1; value <= 5; value++) {
      const id = `${name}-${value}`;
      const input = el('input', { type: 'radio', name, id, value: String(value) });
      input.checked = review.helpfulness === value;
      input.addEventListener('change', () => {
        void this.api.helpfulness(this.course, this.assignment, review.id, value).then(
          () => {
            review.helpfulness = value;
            this.say(group, 'Thanks, rating saved.');
          },
          reason => this.say(group, errorText(reason), true)
        );
      });
      const label = el('label', { for: id }, String(value));
      group.append(input, label);
    }
    return group;
  }

  private flag(f: IFeedback, review: IFeedbackReview): HTMLElement {
    const wrap = el('div', { class: 'cl-Feedback-flag' });
    if (review.flagged) {
      wrap.append(el('span', { class: 'cl-Review-note' }, 'You flagged this review.'));
      return wrap;
    }
    const button = el('button', { type: 'button', class: 'jp-Button' });
    button.textContent = 'Flag this review…';
    button.dataset.testid = 'cl-feedback-flag';
    button.addEventListener('click', () => void this.askFlag(review, wrap));
    wrap.append(button);
    return wrap;
  }

  private async askFlag(review: IFeedbackReview, wrap: HTMLElement): Promise<void> {
    const body = new Widget();
    const id = uniqueId('cl-flag-reason');
    const area = el('textarea', { id, rows: '4', class: 'cl-ReviewText' });
    area.dataset.testid = 'cl-feedback-flag-reason';
    body.node.append(
      el('label', { for: id }, 'What is wrong with it? Your instructor reads this.'),
      area
    );
    const result = await showDialog({
      title: `Flag ${review.label}`,
      body,
      focusNodeSelector: 'textarea',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Flag' })]
    });
    const reason = area.value.trim();
    if (!result.button.accept) {
      return;
    }
    if (!reason) {
      this.say(wrap, 'Say why you flag it; nothing was sent.', true);
      return;
    }
    try {
      await this.api.flag(this.course, this.assignment, review.id, reason);
      review.flagged = true;
      this.render();
    } catch (reason) {
      this.say(wrap, errorText(reason), true);
    }
  }

  private say(host: HTMLElement, text: string, error = false): void {
    let line = host.querySelector<HTMLElement>(':scope > .cl-Review-status');
    if (!line) {
      line = el('p', { class: 'cl-Review-status' });
      host.append(line);
    }
    line.setAttribute('role', error ? 'alert' : 'status');
    line.dataset.state = error ? 'error' : 'ok';
    line.textContent = text;
  }

  private feedback: IFeedback | null = null;
}
