import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { el, errorText, uniqueId } from '../discussions/render';
import { ReviewAPI } from './api';
import { when } from './fields';
import { JobTracker } from './jobs';
import { OpenRoundForm } from './openRound';
import { IStaffRound } from './types';

function checkbox(testid: string, label: string): [HTMLElement, HTMLInputElement] {
  const id = uniqueId('cl-check');
  const box = el('input', { type: 'checkbox', id });
  box.dataset.testid = testid;
  const row = el('div', { class: 'cl-OpenRound-check' });
  row.append(box, el('label', { for: id }, label));
  return [row, box];
}

export interface IStaffOpeners {
  openResults(course: string, assignment: string, canEdit: boolean): Promise<void>;
}

/** A round's state in a word: open, closed (or past its due date), released. */
export function roundState(round: IStaffRound): 'open' | 'closed' | 'released' {
  if (round.released) {
    return 'released';
  }
  return round.state === 'open' ? 'open' : 'closed';
}

/**
 * A course's rounds in the Peer review panel, for its staff: each round's state, due date,
 * submissions, reviews done of those handed out and open flags, and **Results**. An
 * instructor also gets Close/Reopen reviewing, Release feedback, Export to gradebook and
 * Open a round… (both jobs on their own server, with progress). Mentors get no button that
 * changes anything (the service would refuse them anyway).
 *
 * Made once per course and kept across the panel's redraws: the open-a-round form and the
 * jobs' progress keep their state and focus when the list is redrawn.
 */
export class StaffCourse {
  constructor(
    private readonly api: ReviewAPI,
    private readonly jobs: JobTracker,
    readonly course: string,
    private readonly openers: IStaffOpeners,
    private readonly redraw: () => void
  ) {
    this.form = new OpenRoundForm(
      api,
      jobs,
      course,
      () => new Map(this.rounds.map(r => [r.assignment, r])),
      assignment => {
        this.startedHere.add(`open:${assignment}`);
      }
    );
  }

  /** The section's content for these rounds. */
  render(role: 'instructor' | 'mentor', rounds: IStaffRound[]): HTMLElement[] {
    this.rounds = rounds;
    this.form.refresh();
    const instructor = role === 'instructor';
    const parts: HTMLElement[] = [
      el(
        'p',
        { class: 'cl-Panel-note' },
        instructor
          ? 'You are an instructor here: open rounds, follow them, change scores and export.'
          : 'You are a mentor here: you see the rounds and their results and can resolve flags; ' +
              'instructors change rounds and scores.'
      )
    ];
    if (instructor) {
      parts.push(this.openToggle());
      parts.push(this.form.node);
      for (const job of this.jobs.opening(this.course)) {
        if (job.state === 'running' || this.startedHere.has(`open:${job.assignment}`)) {
          if (this.jobs.latest(this.course, job.assignment, 'open') === job) {
            parts.push(this.jobs.view(job));
          }
        }
      }
    }
    if (!rounds.length) {
      parts.push(el('p', { class: 'cl-Panel-empty' }, 'No peer review round in this course yet.'));
    }
    for (const round of rounds) {
      parts.push(this.roundView(round, instructor));
    }
    return parts;
  }

  private openToggle(): HTMLElement {
    if (!this.toggle) {
      const b = el(
        'button',
        { type: 'button', class: 'jp-Button', 'aria-expanded': 'false' },
        'Open a round…'
      );
      b.dataset.testid = 'cl-open-round';
      b.id = uniqueId('cl-open-round');
      this.form.node.id = uniqueId('cl-open-round-form');
      b.setAttribute('aria-controls', this.form.node.id);
      b.addEventListener('click', () => {
        const show = this.form.node.hidden;
        this.form.toggle(show);
        b.setAttribute('aria-expanded', String(show));
        b.textContent = show ? 'Hide the form' : 'Open a round…';
      });
      this.toggle = b;
    }
    return this.toggle;
  }

  private roundView(round: IStaffRound, instructor: boolean): HTMLElement {
    const box = el('div', { class: 'cl-Reviews-round cl-Reviews-staffRound' });
    box.dataset.testid = 'cl-reviews-staff-round';
    box.dataset.assignment = round.assignment;
    const state = roundState(round);
    box.dataset.state = state;
    const head = el('div', { class: 'cl-Reviews-roundHead' });
    const badge = el('span', { class: `cl-Reviews-state cl-Reviews-round-${state}` }, state);
    badge.dataset.testid = 'cl-reviews-round-state';
    head.append(el('h4', {}, round.assignment), badge);
    box.append(head);
    const facts = [
      `Due ${when(round.due_at)}${round.state === 'open' && !round.reviewing_open ? ' (passed)' : ''}`,
      `${round.submissions} submission${round.submissions === 1 ? '' : 's'}`,
      `${round.reviews_submitted} of ${round.assignments} reviews done`,
      `${round.open_flags} open flag${round.open_flags === 1 ? '' : 's'}`
    ];
    if (round.names_visible) {
      facts.push("reviewers' names shown to authors");
    }
    const line = el('p', { class: 'cl-Panel-note' }, facts.join(' · '));
    line.dataset.testid = 'cl-reviews-round-facts';
    box.append(line);
    const status = el('p', { class: 'cl-Reviews-status', 'aria-live': 'polite' });
    status.dataset.testid = 'cl-reviews-round-status';
    const note = this.notes.get(round.assignment);
    if (note) {
      status.textContent = note;
      status.setAttribute('role', 'alert');
    }
    const buttons = el('div', { class: 'cl-Reviews-actions' });
    const results = this.button(
      round.assignment,
      'Results',
      'cl-reviews-results',
      `Results of ${round.assignment}`,
      () => this.openers.openResults(this.course, round.assignment, instructor)
    );
    buttons.append(results);
    if (instructor) {
      const closing = round.state === 'open';
      buttons.append(
        this.button(
          round.assignment,
          closing ? 'Close reviewing' : 'Reopen reviewing',
          'cl-reviews-close',
          `${closing ? 'Close' : 'Reopen'} reviewing of ${round.assignment}`,
          async () => {
            await this.api.changeRound(this.course, round.assignment, {
              state: closing ? 'closed' : 'open'
            });
            this.redraw();
          }
        )
      );
      if (!round.released) {
        buttons.append(
          this.button(
            round.assignment,
            'Release feedback…',
            'cl-reviews-release',
            `Release the feedback of ${round.assignment}`,
            () => this.release(round)
          )
        );
      }
      buttons.append(
        this.button(
          round.assignment,
          'Export to gradebook',
          'cl-reviews-export',
          `Export ${round.assignment} to the nbgrader gradebook`,
          () => this.exportRound(round)
        )
      );
    }
    box.append(buttons, status);
    const exported = this.jobs.latest(this.course, round.assignment, 'export');
    if (
      exported &&
      (exported.state === 'running' || this.startedHere.has(`export:${round.assignment}`))
    ) {
      box.append(this.jobs.view(exported));
    }
    return box;
  }

  /** A button of a round; a refusal stays said under the round across redraws (a change
   * makes the service tell everyone, which redraws the panel) until the next click. */
  private button(
    assignment: string,
    label: string,
    testid: string,
    aria: string,
    run: () => Promise<void>
  ): HTMLButtonElement {
    const b = el('button', { type: 'button', class: 'jp-Button' }, label);
    b.dataset.testid = testid;
    b.setAttribute('aria-label', aria);
    b.addEventListener('click', () => {
      b.disabled = true;
      this.notes.delete(assignment);
      const status = b
        .closest('.cl-Reviews-staffRound')
        ?.querySelector<HTMLElement>('.cl-Reviews-status');
      if (status) {
        status.removeAttribute('role');
        status.textContent = '';
      }
      void run().then(
        () => {
          b.disabled = false;
        },
        reason => {
          b.disabled = false;
          this.notes.set(assignment, errorText(reason));
          this.redraw();
        }
      );
    });
    return b;
  }

  private async release(round: IStaffRound): Promise<void> {
    const body = new Widget();
    const [row, names] = checkbox(
      'cl-reviews-release-names',
      "Show reviewers' names to the authors"
    );
    names.checked = round.names_visible;
    body.node.append(
      el(
        'p',
        {},
        `Each author of ${round.assignment} will see their final scores and the peers' ` +
          'comments on their notebook, and can rate and flag the reviews. ' +
          `${round.reviews_submitted} of ${round.assignments} reviews are done.`
      ),
      row
    );
    const result = await showDialog({
      title: `Release the feedback of ${round.assignment}?`,
      body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Release' })]
    });
    if (!result.button.accept) {
      return;
    }
    await this.api.changeRound(this.course, round.assignment, {
      released: true,
      names_visible: names.checked
    });
    this.redraw();
  }

  private async exportRound(round: IStaffRound): Promise<void> {
    const body = new Widget();
    const open = round.state === 'open';
    const [closeRow, close] = checkbox(
      'cl-reviews-export-close',
      'Close reviewing first (scores must stop changing)'
    );
    close.checked = open;
    const [overwriteRow, overwrite] = checkbox(
      'cl-reviews-export-overwrite',
      'Replace scores a grader already set by hand in the gradebook'
    );
    body.node.append(
      el(
        'p',
        {},
        `The final score of each nbgrader criterion of ${round.assignment} and a combined comment ` +
          "(saying it came from peer review) go into your nbgrader gradebook, in your server's " +
          'course folder. Nothing is written if any submission or cell is missing.'
      ),
      ...(open ? [closeRow] : []),
      overwriteRow
    );
    const result = await showDialog({
      title: `Export ${round.assignment} to the gradebook?`,
      body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Export' })]
    });
    if (!result.button.accept) {
      return;
    }
    if (open && close.checked) {
      await this.api.changeRound(this.course, round.assignment, { state: 'closed' });
    }
    const folder = this.form.folderValue();
    const { job } = await this.api.exportRound({
      course: this.course,
      assignment: round.assignment,
      ...(folder ? { folder } : {}),
      ...(overwrite.checked ? { overwrite: true } : {})
    });
    this.startedHere.add(`export:${round.assignment}`);
    this.jobs.track(job); // drawn under the round by the redraw this causes
  }

  private rounds: IStaffRound[] = [];
  /** The last refusal per round, shown under it until its next click. */
  private readonly notes = new Map<string, string>();
  private toggle: HTMLButtonElement | null = null;
  private readonly form: OpenRoundForm;
  /** Jobs started from this page (`open:<a>`, `export:<a>`): shown after they finish too. */
  private readonly startedHere = new Set<string>();
}
