import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { applyFocus, el, errorText, focusMark, uniqueId } from '../discussions/render';
import { ICohortLabEvent } from '../tokens';
import { ReviewAPI } from './api';
import { points, when } from './fields';
import {
  AggregationMethod,
  ICriterion,
  ICriterionResult,
  IFlag,
  IResults,
  IResultSubmission,
  IStaffReview
} from './types';

/** A spread of at least this share of a criterion's points is shown as a disagreement. */
export const LARGE_SPREAD = 0.4;

const METHODS: Record<AggregationMethod, string> = {
  median: 'median of the peers',
  mean: 'mean of the peers',
  pg1: 'reliability-weighted (PG1)'
};

/** A score as people write it: at most two decimals, a dash for none. */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0$/, '');
}

function statusLine(): HTMLElement {
  const status = el('p', { class: 'cl-Review-status', 'aria-live': 'polite' });
  status.dataset.testid = 'cl-results-status';
  return status;
}

function percent(value: number | null): string {
  return value === null ? '—' : `${Math.round(value * 100)}%`;
}

/** Is a spread large for a criterion of `max` points? */
export function largeSpread(spread: number | null, max: number): boolean {
  return spread !== null && max > 0 && spread / max >= LARGE_SPREAD;
}

/**
 * The staff's results of one round, in the main area: per submission (pseudonym and author)
 * and criterion the peers' scores by reviewer, the aggregate, the spread between them,
 * nbgrader's autograde score and the final score; the instructor overrides a score, excludes
 * or includes a review; the reviewers' agreement and helpfulness; the flags authors raised.
 * Mentors read it all and may resolve flags (the service lets staff), nothing else.
 */
export class ResultsView extends Widget {
  constructor(
    private readonly api: ReviewAPI,
    readonly course: string,
    readonly assignment: string,
    readonly canEdit: boolean
  ) {
    super();
    this.id = `cl-review-results-${uniqueId('r')}`;
    this.addClass('cl-ReviewResults');
    this.title.label = `Results: ${assignment}`;
    this.title.caption = `Peer review results of ${assignment} (${course})`;
    this.title.closable = true;
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', this.title.caption);
    this.node.dataset.testid = 'cl-review-results';
    this.node.dataset.assignment = assignment;
    this.node.dataset.editable = String(canEdit);
    this.node.replaceChildren(el('p', { class: 'cl-Review-empty' }, 'Loading the results…'));
    api.client.events.connect(this.onEvent, this);
    void this.refresh();
  }

  dispose(): void {
    this.api.client.events.disconnect(this.onEvent, this);
    super.dispose();
  }

  /**
   * Fetch the results and flags again and redraw, keeping focus where it was. A refresh
   * nobody here asked for (`asked` false: another staff member's change) does not redraw
   * over an override being typed; it shows that there is news instead, as `onEvent` does
   * when it arrives during the typing.
   */
  async refresh(asked = true): Promise<void> {
    const generation = ++this.generation;
    this.node.setAttribute('aria-busy', 'true');
    let results: IResults;
    let flags: IFlag[];
    try {
      [results, flags] = await Promise.all([
        this.api.results(this.course, this.assignment),
        this.api.flags(this.course, this.assignment).then(f => f.flags)
      ]);
    } catch (reason) {
      if (generation === this.generation) {
        this.node.setAttribute('aria-busy', 'false');
        const retry = el('button', { type: 'button', class: 'jp-Button' }, 'Retry');
        retry.addEventListener('click', () => void this.refresh());
        this.node.replaceChildren(
          el('p', { class: 'cl-Review-error', role: 'alert' }, errorText(reason)),
          retry
        );
      }
      return;
    }
    if (generation !== this.generation) {
      return;
    }
    if (!asked && this.edits.size) {
      this.node.setAttribute('aria-busy', 'false');
      this.holdNews();
      return;
    }
    this.results = results;
    this.flagList = flags;
    this.pending = false;
    this.edits.clear();
    const mark = focusMark(this.node);
    this.render();
    if (mark) {
      applyFocus(this.node, mark);
    }
    this.node.setAttribute('aria-busy', 'false');
  }

  private onEvent(_: unknown, event: ICohortLabEvent): void {
    if (event.type !== 'review' || event.course !== this.course) {
      return;
    }
    if (event.assignment !== undefined && event.assignment !== this.assignment) {
      return;
    }
    if (this.edits.size) {
      this.holdNews();
      return;
    }
    void this.refresh(false);
  }

  /** Someone is typing an override: say there is news rather than wiping it. */
  private holdNews(): void {
    this.pending = true;
    this.node.querySelector<HTMLElement>('.cl-Results-news')?.removeAttribute('hidden');
  }

  private render(): void {
    const r = this.results;
    if (!r) {
      return;
    }
    const rubric = r.rubric;
    const parts: HTMLElement[] = [this.header(r)];
    const subs = el('section', { class: 'cl-Results-submissions', 'aria-label': 'Submissions' });
    subs.append(el('h3', {}, 'Submissions'));
    if (!r.submissions.length) {
      subs.append(el('p', { class: 'cl-Review-empty' }, 'This round has no submissions.'));
    }
    for (const sub of r.submissions) {
      subs.append(this.submissionView(sub, rubric));
    }
    parts.push(subs, this.reviewersView(r), this.flagsView());
    this.node.replaceChildren(...parts);
  }

  private header(r: IResults): HTMLElement {
    const head = el('div', { class: 'cl-Results-head' });
    const title = el('h2', {}, `Peer review results: ${this.assignment}`);
    const state = r.round.released
      ? 'feedback released'
      : r.round.state === 'open'
        ? 'open'
        : 'closed';
    const done = r.submissions.reduce((n, s) => n + s.reviews.length, 0);
    const summary = el(
      'p',
      { class: 'cl-Review-note' },
      `${this.course} · ${state} · due ${when(r.round.due_at)} · ${r.submissions.length} ` +
        `submission${r.submissions.length === 1 ? '' : 's'} · ${done} review${done === 1 ? '' : 's'} ` +
        `submitted · ${r.open_flags} open flag${r.open_flags === 1 ? '' : 's'}`
    );
    summary.dataset.testid = 'cl-results-summary';
    const tools = el('div', { class: 'cl-Results-tools' });
    const refresh = el('button', { type: 'button', class: 'jp-Button' }, 'Refresh');
    refresh.dataset.testid = 'cl-results-refresh';
    refresh.setAttribute('aria-label', `Refresh the results of ${this.assignment}`);
    refresh.addEventListener('click', () => void this.refresh());
    const news = el(
      'p',
      { class: 'cl-Results-news', role: 'status' },
      'New reviews or flags arrived; Refresh shows them (your unsaved override is kept until then).'
    );
    news.hidden = !this.pending;
    tools.append(this.methodChooser(r), refresh);
    head.append(title, summary, tools, news, this.status);
    if (!this.canEdit) {
      head.append(
        el(
          'p',
          { class: 'cl-Review-note' },
          'You are a mentor here: you see the results and can resolve flags; instructors ' +
            'change scores and reviews.'
        )
      );
    }
    return head;
  }

  private methodChooser(r: IResults): HTMLElement {
    const id = uniqueId('cl-results-method');
    const wrap = el('span', { class: 'cl-Results-method' });
    wrap.append(el('label', { for: id }, 'Aggregate: '));
    if (!this.canEdit) {
      wrap.append(el('span', { id }, METHODS[r.method] ?? r.method));
      return wrap;
    }
    const select = el('select', { id });
    select.dataset.testid = 'cl-results-method';
    for (const [value, label] of Object.entries(METHODS)) {
      const option = el('option', { value }, label);
      option.selected = value === r.method;
      select.append(option);
    }
    select.addEventListener('change', () => {
      const method = select.value as AggregationMethod;
      void this.act(
        () => this.api.changeRound(this.course, this.assignment, { method }),
        `Scores are now the ${METHODS[method]}.`
      );
    });
    wrap.append(select);
    return wrap;
  }

  private submissionView(sub: IResultSubmission, rubric: ICriterion[]): HTMLElement {
    const who = `${sub.name} (${sub.author})`;
    const box = el('section', { class: 'cl-Results-submission', 'aria-label': who });
    box.dataset.testid = 'cl-results-submission';
    box.dataset.number = String(sub.number);
    box.dataset.author = sub.author;
    const head = el('div', { class: 'cl-Results-subhead' });
    head.append(
      el('h4', {}, sub.name),
      el('span', { class: 'cl-Results-author' }, sub.author),
      el(
        'span',
        { class: 'cl-Results-total' },
        `Final ${num(sub.total.score)} of ${points(sub.total.max)}` +
          (sub.total.complete ? '' : ' (incomplete)') +
          (sub.autograde
            ? ` · nbgrader ${num(sub.autograde.total)} of ${num(sub.autograde.max)}`
            : '')
      )
    );
    box.append(head);
    if (!sub.reviews.length) {
      const empty = el('p', { class: 'cl-Review-empty' }, 'No reviews submitted yet.');
      empty.dataset.testid = 'cl-results-no-reviews';
      box.append(empty);
    }
    box.append(this.scoresTable(sub, rubric, who));
    if (sub.reviews.length) {
      box.append(this.reviewsList(sub, who));
    }
    return box;
  }

  private scoresTable(sub: IResultSubmission, rubric: ICriterion[], who: string): HTMLElement {
    const table = el('table', { class: 'cl-Results-table' });
    table.dataset.testid = 'cl-results-scores';
    table.append(el('caption', {}, `Scores of ${who}`));
    const head = el('tr');
    const columns = ['Criterion', 'Peers', 'Aggregate', 'Spread', 'Autograde', 'Final'];
    if (this.canEdit) {
      columns.push('Override');
    }
    for (const c of columns) {
      head.append(el('th', { scope: 'col' }, c));
    }
    table.append(el('thead'), el('tbody'));
    table.tHead!.append(head);
    for (const c of rubric) {
      const result: ICriterionResult = sub.criteria[c.key] ?? {
        peer: [],
        aggregate: null,
        spread: null,
        autograde: null,
        override: null,
        final: null
      };
      table.tBodies[0].append(this.criterionRow(sub, c, result, who));
    }
    return table;
  }

  private criterionRow(
    sub: IResultSubmission,
    c: ICriterion,
    result: ICriterionResult,
    who: string
  ): HTMLElement {
    const row = el('tr');
    row.dataset.testid = 'cl-results-criterion';
    row.dataset.key = c.key;
    const name = el('th', { scope: 'row' });
    name.append(
      el('span', {}, c.title),
      el('span', { class: 'cl-Review-note' }, ` / ${num(c.max_points)}`)
    );
    const peers = el('td');
    if (!result.peer.length) {
      peers.append(el('span', { class: 'cl-Review-note' }, 'none yet'));
    } else {
      const list = el('ul', { class: 'cl-Results-peers' });
      for (const p of result.peer) {
        const item = el('li');
        item.dataset.testid = 'cl-results-peer';
        item.dataset.excluded = String(p.excluded);
        const text = `${p.reviewer}: ${num(p.score)}`;
        if (p.excluded) {
          const struck = el('s', {}, text);
          item.append(struck, el('span', { class: 'cl-Review-note' }, ' (excluded)'));
        } else {
          item.textContent = text;
        }
        if (p.comment) {
          item.title = p.comment;
        }
        list.append(item);
      }
      peers.append(list);
    }
    const aggregate = el('td', {}, num(result.aggregate));
    aggregate.dataset.testid = 'cl-results-aggregate';
    const spread = el('td', {}, num(result.spread));
    spread.dataset.testid = 'cl-results-spread';
    if (largeSpread(result.spread, c.max_points)) {
      spread.classList.add('cl-Results-disagree');
      spread.dataset.large = 'true';
      spread.append(el('span', { class: 'cl-Results-flagword' }, ' large'));
      spread.title = `The peers disagree by ${num(result.spread)} of ${points(c.max_points)}.`;
    }
    const auto = el('td', {}, num(result.autograde));
    auto.dataset.testid = 'cl-results-autograde';
    const final = el('td', { class: 'cl-Results-final' }, num(result.final));
    final.dataset.testid = 'cl-results-final';
    if (result.override) {
      final.classList.add('cl-Results-overridden');
      final.append(el('span', { class: 'cl-Review-note' }, ' (override)'));
    }
    row.append(name, peers, aggregate, spread, auto, final);
    if (this.canEdit) {
      row.append(this.overrideCell(sub, c, result, who));
    } else if (result.override) {
      final.title = this.overrideText(result);
    }
    return row;
  }

  private overrideText(result: ICriterionResult): string {
    const o = result.override;
    if (!o) {
      return '';
    }
    return `Set to ${num(o.score)} by ${o.by ?? 'an instructor'}${o.reason ? `: ${o.reason}` : ''}`;
  }

  private overrideCell(
    sub: IResultSubmission,
    c: ICriterion,
    result: ICriterionResult,
    who: string
  ): HTMLElement {
    const cell = el('td', { class: 'cl-Results-override' });
    const form = el('form', { class: 'cl-Results-overrideForm' });
    form.noValidate = true; // our message, naming the range, rather than the browser's bubble
    const key = `${sub.number}/${c.key}`;
    const score = el('input', {
      type: 'number',
      min: '0',
      max: String(c.max_points),
      step: 'any',
      class: 'cl-Results-score',
      'aria-label': `Override score for ${c.title} of ${who}, 0 to ${num(c.max_points)}`,
      placeholder: num(result.aggregate)
    });
    score.dataset.testid = 'cl-results-override-score';
    score.value = result.override ? String(result.override.score) : '';
    const reason = el('input', {
      type: 'text',
      class: 'cl-Results-reason',
      placeholder: 'reason',
      maxlength: '2000',
      'aria-label': `Reason for overriding ${c.title} of ${who}`
    });
    reason.dataset.testid = 'cl-results-override-reason';
    reason.value = result.override?.reason ?? '';
    const noteEdit = () => this.edits.add(key);
    score.addEventListener('input', noteEdit);
    reason.addEventListener('input', noteEdit);
    const save = el('button', { type: 'submit', class: 'jp-Button' }, 'Override');
    save.dataset.testid = 'cl-results-override-save';
    save.setAttribute('aria-label', `Override ${c.title} of ${who}`);
    form.append(score, reason, save);
    form.addEventListener('submit', event => {
      event.preventDefault();
      const value = Number(score.value);
      if (
        score.value.trim() === '' ||
        !Number.isFinite(value) ||
        value < 0 ||
        value > c.max_points
      ) {
        this.say(`The score for ${c.title} must be a number from 0 to ${num(c.max_points)}.`, true);
        score.focus();
        return;
      }
      this.edits.delete(key); // sent: no longer unsaved typing
      void this.act(
        () =>
          this.api.setOverride(this.course, this.assignment, sub.number, c.key, {
            score: value,
            reason: reason.value
          }),
        `${c.title} of ${sub.name} is now ${num(value)}.`
      );
    });
    cell.append(form);
    if (result.override) {
      const info = el(
        'span',
        { class: 'cl-Review-note cl-Results-overrideBy' },
        this.overrideText(result)
      );
      const clear = el('button', { type: 'button', class: 'jp-Button' }, 'Clear');
      clear.dataset.testid = 'cl-results-override-clear';
      clear.setAttribute(
        'aria-label',
        `Clear the override of ${c.title} of ${who} (back to the aggregate)`
      );
      clear.addEventListener('click', () => {
        void this.act(
          () => this.api.clearOverride(this.course, this.assignment, sub.number, c.key),
          `${c.title} of ${sub.name} is back to the peers' aggregate.`
        );
      });
      cell.append(info, clear);
    }
    return cell;
  }

  private reviewsList(sub: IResultSubmission, who: string): HTMLElement {
    const wrap = el('div', { class: 'cl-Results-reviews' });
    const list = el('ul', { 'aria-label': `Reviews of ${who}` });
    sub.reviews.forEach((review, i) => list.append(this.reviewItem(sub, review, i + 1, who)));
    wrap.append(el('h5', {}, `Reviews (${sub.reviews_counted} counted)`), list);
    return wrap;
  }

  private reviewItem(
    sub: IResultSubmission,
    review: IStaffReview,
    n: number,
    who: string
  ): HTMLElement {
    const item = el('li', { class: 'cl-Results-review' });
    item.dataset.testid = 'cl-results-review';
    item.dataset.review = review.id;
    item.dataset.reviewer = review.reviewer;
    item.dataset.excluded = String(!!review.excluded);
    const facts = [
      `submitted ${when(review.submitted_at)}`,
      `${review.cell_comments} cell comment${review.cell_comments === 1 ? '' : 's'}`,
      review.helpfulness === null ? 'not rated' : `rated ${review.helpfulness}/5 by the author`
    ];
    if (review.open_flags) {
      facts.push(`${review.open_flags} open flag${review.open_flags === 1 ? '' : 's'}`);
    }
    const head = el('div', { class: 'cl-Results-reviewHead' });
    const name = el(review.excluded ? 's' : 'strong', {}, `Review ${n} by ${review.reviewer}`);
    head.append(name, el('span', { class: 'cl-Review-note' }, ` · ${facts.join(' · ')}`));
    item.append(head);
    if (review.excluded) {
      const e = review.excluded;
      item.append(
        el(
          'p',
          { class: 'cl-Results-excluded' },
          `Excluded by ${e.by ?? 'an instructor'}${e.reason ? `: ${e.reason}` : ''} (${when(e.at)})`
        )
      );
    }
    if (review.comment) {
      item.append(el('p', { class: 'cl-Results-comment' }, review.comment));
    }
    if (this.canEdit) {
      const toggle = el('button', { type: 'button', class: 'jp-Button' });
      toggle.dataset.testid = 'cl-results-exclude';
      toggle.textContent = review.excluded ? 'Include' : 'Exclude…';
      toggle.setAttribute(
        'aria-label',
        `${review.excluded ? 'Include' : 'Exclude'} the review by ${review.reviewer} of ${who}`
      );
      toggle.addEventListener('click', () => {
        if (review.excluded) {
          void this.act(
            () => this.api.include(this.course, this.assignment, review.id),
            `The review by ${review.reviewer} of ${sub.name} counts again.`
          );
        } else {
          void this.askExclude(sub, review);
        }
      });
      item.append(toggle);
    }
    return item;
  }

  private async askExclude(sub: IResultSubmission, review: IStaffReview): Promise<void> {
    const body = new Widget();
    const id = uniqueId('cl-exclude-reason');
    const area = el('textarea', { id, rows: '3', class: 'cl-ReviewText', maxlength: '2000' });
    area.dataset.testid = 'cl-results-exclude-reason';
    body.node.append(
      el(
        'p',
        {},
        `The review by ${review.reviewer} of ${sub.name} will no longer count in the scores ` +
          'nor show in the author\u2019s feedback. It is kept; Include brings it back.'
      ),
      el('label', { for: id }, 'Why? (kept with the exclusion, for staff)'),
      area
    );
    const result = await showDialog({
      title: `Exclude a review of ${sub.name}`,
      body,
      focusNodeSelector: 'textarea',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Exclude' })]
    });
    if (!result.button.accept) {
      return;
    }
    await this.act(
      () => this.api.exclude(this.course, this.assignment, review.id, area.value.trim()),
      `The review by ${review.reviewer} of ${sub.name} is excluded.`
    );
  }

  private reviewersView(r: IResults): HTMLElement {
    const section = el('section', { class: 'cl-Results-reviewers', 'aria-label': 'Reviewers' });
    section.append(el('h3', {}, 'Reviewers'));
    if (!r.reviewers.length) {
      section.append(el('p', { class: 'cl-Review-empty' }, 'Nobody has been given a review yet.'));
      return section;
    }
    const table = el('table', { class: 'cl-Results-table' });
    table.dataset.testid = 'cl-results-reviewers';
    table.append(
      el(
        'caption',
        {},
        'Reviewers: agreement is 100% when a reviewer\u2019s scores match the median of the ' +
          'other reviewers of the same work'
      )
    );
    const head = el('tr');
    for (const c of [
      'Reviewer',
      'Assigned',
      'Done',
      'Excluded',
      'Agreement',
      'Helpfulness',
      'Open flags'
    ]) {
      head.append(el('th', { scope: 'col' }, c));
    }
    const body = el('tbody');
    for (const rv of r.reviewers) {
      const row = el('tr');
      row.dataset.testid = 'cl-results-reviewer';
      row.dataset.user = rv.user;
      const helpful =
        rv.helpfulness === null
          ? '—'
          : `${num(rv.helpfulness)}/5 (${rv.ratings} rating${rv.ratings === 1 ? '' : 's'})`;
      row.append(
        el('th', { scope: 'row' }, rv.user),
        el('td', {}, String(rv.reviews_assigned)),
        el('td', {}, String(rv.reviews_done)),
        el('td', {}, String(rv.reviews_excluded)),
        el('td', {}, percent(rv.agreement)),
        el('td', {}, helpful),
        el('td', rv.open_flags ? { class: 'cl-Results-disagree' } : {}, String(rv.open_flags))
      );
      body.append(row);
    }
    const thead = el('thead');
    thead.append(head);
    table.append(thead, body);
    section.append(table);
    return section;
  }

  private flagsView(): HTMLElement {
    const section = el('section', { class: 'cl-Results-flags', 'aria-label': 'Flags' });
    section.dataset.testid = 'cl-results-flags';
    section.append(el('h3', {}, 'Flags'));
    if (!this.flagList.length) {
      section.append(el('p', { class: 'cl-Review-empty' }, 'No review has been flagged.'));
      return section;
    }
    const list = el('ul');
    for (const f of this.flagList) {
      const item = el('li', { class: 'cl-Results-flag' });
      item.dataset.testid = 'cl-results-flag';
      item.dataset.flag = String(f.id);
      item.dataset.resolved = String(f.resolved);
      item.append(
        el(
          'p',
          {},
          `${f.author} flagged the review by ${f.reviewer} of Submission ${f.submission} ` +
            `(${when(f.created_at)})${f.excluded ? ' · review excluded' : ''}`
        ),
        el('blockquote', { class: 'cl-Results-comment' }, f.reason)
      );
      if (f.resolved) {
        item.append(
          el(
            'p',
            { class: 'cl-Review-note' },
            `Resolved by ${f.resolved_by ?? 'staff'} (${when(f.resolved_at)})` +
              (f.resolution ? `: ${f.resolution}` : '')
          )
        );
      }
      const toggle = el(
        'button',
        { type: 'button', class: 'jp-Button' },
        f.resolved ? 'Reopen' : 'Resolve…'
      );
      toggle.dataset.testid = 'cl-results-flag-resolve';
      toggle.setAttribute(
        'aria-label',
        `${f.resolved ? 'Reopen' : 'Resolve'} the flag on the review by ${f.reviewer} of Submission ${f.submission}`
      );
      toggle.addEventListener('click', () => void this.toggleFlag(f));
      item.append(toggle);
      list.append(item);
    }
    section.append(list);
    return section;
  }

  private async toggleFlag(f: IFlag): Promise<void> {
    if (f.resolved) {
      await this.act(
        () => this.api.resolveFlag(this.course, this.assignment, f.id, { resolved: false }),
        'The flag is open again.'
      );
      return;
    }
    const body = new Widget();
    const id = uniqueId('cl-flag-note');
    const area = el('textarea', { id, rows: '3', class: 'cl-ReviewText', maxlength: '2000' });
    area.dataset.testid = 'cl-results-flag-note';
    body.node.append(el('label', { for: id }, 'What was done about it? (for staff)'), area);
    const result = await showDialog({
      title: `Resolve the flag on Submission ${f.submission}`,
      body,
      focusNodeSelector: 'textarea',
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Resolve' })]
    });
    if (!result.button.accept) {
      return;
    }
    await this.act(
      () =>
        this.api.resolveFlag(this.course, this.assignment, f.id, {
          resolved: true,
          resolution: area.value.trim()
        }),
      'The flag is resolved.'
    );
  }

  /** Do one change, then show the service's results again (or its refusal). */
  private async act(run: () => Promise<unknown>, done: string): Promise<void> {
    this.node.setAttribute('aria-busy', 'true');
    try {
      await run();
    } catch (reason) {
      this.node.setAttribute('aria-busy', 'false');
      this.say(errorText(reason), true);
      return;
    }
    await this.refresh();
    this.say(done);
  }

  private say(text: string, error = false): void {
    this.status.setAttribute('role', error ? 'alert' : 'status');
    this.status.dataset.state = error ? 'error' : 'ok';
    this.status.textContent = text;
  }

  private results: IResults | null = null;
  private flagList: IFlag[] = [];
  /**
   * One status line for the life of the view, moved into each redraw: a redraw started by
   * another staff member's change must not wipe the outcome of this person's last action
   * (it did, under load, between two polls of a screen reader or a test).
   */
  private readonly status = statusLine();
  /** Override forms with unsaved typing (a refresh would lose it). */
  private readonly edits = new Set<string>();
  private pending = false;
  private generation = 0;
}
