import { el, errorText, uniqueId } from '../discussions/render';
import { ReviewAPI } from './api';
import { JobTracker } from './jobs';
import { INameCheckKey, NameCheckStep } from './nameCheck';
import { INbgraderCourse, IOpenRoundRequest, IStaffRound } from './types';

/** `datetime-local`'s value (the person's own time zone) as ISO 8601 with its zone. */
export function localToISO(value: string): string | null {
  if (!value) {
    return null;
  }
  const date = new Date(value); // a date-time without zone is read as local time
  return isNaN(date.getTime()) ? null : date.toISOString();
}

/** ISO 8601 as `datetime-local` wants it, in the person's own time zone; '' for none. */
export function isoToLocal(iso: string | null): string {
  const date = iso ? new Date(iso) : null;
  if (!date || isNaN(date.getTime())) {
    return '';
  }
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || uniqueId('cl-open-field');
  control.id = id;
  const wrap = el('div', { class: 'cl-OpenRound-field' });
  wrap.append(el('label', { for: id }, label), control);
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    wrap.append(el('span', { id: hintId, class: 'cl-Panel-note' }, hint));
  }
  return wrap;
}

function check(label: string, testid: string, hint: string): [HTMLElement, HTMLInputElement] {
  const id = uniqueId('cl-open-check');
  const box = el('input', { type: 'checkbox', id, 'aria-describedby': `${id}-hint` });
  box.dataset.testid = testid;
  const wrap = el('div', { class: 'cl-OpenRound-check' });
  wrap.append(
    box,
    el('label', { for: id }, label),
    el('span', { id: `${id}-hint`, class: 'cl-Panel-note' }, hint)
  );
  return [wrap, box];
}

/**
 * "Open a round…" in the Peer review panel, for an instructor: the nbgrader course folder
 * of their own server (filled in from what the server finds), an assignment from that
 * course with its submission counts, and the round's settings. Starting it runs the same
 * steps as `cohortlab review open` as a job on the instructor's server, whose progress the
 * panel shows. Run again on a round that exists, it adds late submissions.
 *
 * The element is made once per course and kept across the panel's redraws.
 */
export class OpenRoundForm {
  constructor(
    private readonly api: ReviewAPI,
    private readonly jobs: JobTracker,
    readonly course: string,
    private readonly existing: () => Map<string, IStaffRound>,
    private readonly started: (assignment: string) => void
  ) {
    this.node = el('form', {
      class: 'cl-OpenRound',
      'aria-label': `Open a peer review round in ${course}`
    });
    this.node.dataset.testid = 'cl-open-round-form';
    this.node.noValidate = true;
    this.node.hidden = true;
    this.build();
  }

  readonly node: HTMLFormElement;

  /** Show the form (looking the course up the first time) or hide it. */
  toggle(show: boolean): void {
    this.node.hidden = !show;
    if (show && !this.looked) {
      void this.lookUp(this.savedFolder() || undefined);
    }
    if (show) {
      this.folder.focus();
    }
  }

  private build(): void {
    this.folder = el('input', { type: 'text', placeholder: 'e.g. demo101', autocomplete: 'off' });
    this.folder.dataset.testid = 'cl-open-round-folder';
    const look = el('button', { type: 'button', class: 'jp-Button' }, 'Look up');
    look.dataset.testid = 'cl-open-round-lookup';
    look.setAttribute('aria-label', 'Look up the nbgrader course in this folder');
    look.addEventListener('click', () => void this.lookUp(this.folder.value.trim()));
    const folderRow = el('div', { class: 'cl-OpenRound-inline' });
    folderRow.append(this.folder, look);
    this.folder.id = uniqueId('cl-open-folder');
    const folderField = el('div', { class: 'cl-OpenRound-field' });
    folderField.append(
      el('label', { for: this.folder.id }, 'Course folder (in my server)'),
      folderRow
    );
    this.courseNote = el('p', { class: 'cl-Panel-note', 'aria-live': 'polite' });
    this.courseNote.dataset.testid = 'cl-open-round-course';

    this.assignment = el('select', {});
    this.assignment.dataset.testid = 'cl-open-round-assignment';
    this.assignment.addEventListener('change', () => {
      this.prefilled = null;
      this.names.reset();
    });
    this.k = el('input', { type: 'number', min: '1', max: '20', step: '1', value: '3' });
    this.k.dataset.testid = 'cl-open-round-k';
    this.due = el('input', { type: 'datetime-local' });
    this.due.dataset.testid = 'cl-open-round-due';
    this.lease = el('input', { type: 'number', min: '1', step: '1', placeholder: 'no lease' });
    this.lease.dataset.testid = 'cl-open-round-lease';
    this.source = el('select', {});
    this.source.dataset.testid = 'cl-open-round-source';
    this.source.append(
      el('option', { value: 'submitted' }, 'Submitted (collected) notebooks'),
      el('option', { value: 'autograded' }, 'Autograded notebooks')
    );
    this.source.addEventListener('change', () => this.names.reset());
    this.names = new NameCheckStep(
      key => this.api.checkNames(key),
      () => this.updateRerun()
    );
    this.blocker = el('p', { class: 'cl-Panel-note' });
    this.blocker.dataset.testid = 'cl-open-round-blocker';
    const [acrossWrap, across] = check(
      'Across cohorts',
      'cl-open-round-across',
      'Reviewers come from other cohorts than the author.'
    );
    const [teamsWrap, teams] = check(
      'Separate teams',
      'cl-open-round-teams',
      'Nobody reviews a member of their own team.'
    );
    this.across = across;
    this.teams = teams;
    this.rerun = el('p', { class: 'cl-Panel-note cl-OpenRound-rerun' });
    this.rerun.dataset.testid = 'cl-open-round-rerun';
    this.submit = el(
      'button',
      { type: 'submit', class: 'jp-Button jp-mod-styled jp-mod-accept' },
      'Open the round'
    );
    this.submit.dataset.testid = 'cl-open-round-start';
    this.status = el('p', { class: 'cl-Reviews-status', 'aria-live': 'polite' });
    this.status.dataset.testid = 'cl-open-round-status';
    this.node.append(
      el('h4', {}, 'Open a round'),
      folderField,
      this.courseNote,
      field('Assignment', this.assignment),
      field('Reviewers per submission', this.k),
      field('Reviews due', this.due, 'In your time zone; leave empty for no due date.'),
      field(
        'Lease (hours)',
        this.lease,
        'A review not opened within this time goes to someone else.'
      ),
      field('Copies from', this.source),
      acrossWrap,
      teamsWrap,
      this.names.node,
      this.rerun,
      this.blocker,
      this.submit,
      this.status
    );
    this.node.addEventListener('submit', event => {
      event.preventDefault();
      void this.start();
    });
    this.updateRerun();
  }

  /** Ask my server for the nbgrader course (in `folder`, or where it finds one). */
  private async lookUp(folder?: string): Promise<void> {
    this.looked = true;
    this.courseNote.removeAttribute('role');
    this.courseNote.textContent = 'Looking for the nbgrader course…';
    let found: INbgraderCourse;
    try {
      found = await this.api.nbgraderCourse(folder || undefined);
    } catch (reason) {
      this.found = null;
      this.courseNote.setAttribute('role', 'alert');
      this.courseNote.textContent = errorText(reason);
      this.assignment.replaceChildren();
      this.updateRerun();
      return;
    }
    this.found = found;
    this.names.reset();
    this.folder.value = found.folder;
    if (found.course_id === this.course) {
      this.saveFolder(found.folder);
    }
    if (found.course_id !== this.course) {
      this.courseNote.setAttribute('role', 'alert');
      this.courseNote.textContent =
        `The nbgrader course in ${found.folder || 'this folder'} is ${found.course_id}, not ` +
        `${this.course}: choose the folder of ${this.course}.`;
    } else {
      this.courseNote.textContent = `nbgrader course ${found.course_id} in ${found.folder || 'my home'}.`;
    }
    this.assignment.replaceChildren();
    if (!found.assignments.length) {
      this.assignment.append(el('option', { value: '' }, 'No assignments in this course'));
    }
    for (const a of found.assignments) {
      const option = el(
        'option',
        { value: a.name },
        `${a.name} — ${a.submitted} submitted, ${a.autograded} autograded`
      );
      this.assignment.append(option);
    }
    const firstWithWork = found.assignments.find(a => a.submitted > 0);
    if (firstWithWork) {
      this.assignment.value = firstWithWork.name;
    }
    this.updateRerun();
  }

  private updateRerun(): void {
    const name = this.assignment.value;
    const ok = !!this.found && this.found.course_id === this.course && !!name;
    this.names.key = ok ? this.checkKey() : null;
    const blocker = ok ? this.names.blocker() : '';
    this.blocker.textContent = blocker;
    this.submit.disabled = !ok || this.busy || !!blocker;
    const round = name ? this.existing().get(name) : undefined;
    if (round && this.prefilled !== name) {
      this.prefill(round);
    }
    if (round) {
      this.submit.textContent = 'Add late submissions';
      this.rerun.textContent =
        `${name} already has a round: running it again adds submissions that came in since, ` +
        'with their reviewers; nothing already there is changed or duplicated. The form shows ' +
        "the round's settings; what you change here (reviewers per submission, due date, " +
        'lease, cohort rules) applies to the round.';
    } else {
      this.submit.textContent = 'Open the round';
      this.rerun.textContent =
        'You can run this again later on the same assignment: late submissions are added, ' +
        'nothing is duplicated.';
    }
  }

  /** What the name check is about: the course folder, assignment and copies chosen. */
  private checkKey(): INameCheckKey {
    return {
      course: this.course,
      assignment: this.assignment.value,
      folder: this.found?.folder ?? '',
      source: this.source.value as 'submitted' | 'autograded'
    };
  }

  /** A round that exists: its settings in the form, so running again keeps them. */
  private prefill(round: IStaffRound): void {
    this.prefilled = round.assignment;
    this.k.value = String(round.k);
    this.due.value = isoToLocal(round.due_at);
    this.lease.value = round.lease_hours ? String(round.lease_hours) : '';
    this.across.checked = round.across_cohorts;
    this.teams.checked = round.separate_teams;
  }

  private request(): IOpenRoundRequest | string {
    const assignment = this.assignment.value;
    if (!this.found || this.folder.value.trim() !== this.found.folder) {
      return 'The course folder changed: press Look up first, then choose the assignment.';
    }
    const body: IOpenRoundRequest = { course: this.course, assignment, folder: this.found.folder };
    const k = Number(this.k.value);
    if (!Number.isInteger(k) || k < 1) {
      return 'Reviewers per submission must be a whole number from 1.';
    }
    body.per_submission = k;
    if (this.due.value) {
      const due = localToISO(this.due.value);
      if (!due) {
        return 'The due date is not a date and time.';
      }
      body.due_at = due;
    }
    if (this.lease.value.trim()) {
      const lease = Number(this.lease.value);
      if (!Number.isFinite(lease) || lease <= 0) {
        return 'The lease is a number of hours above 0, or empty for none.';
      }
      body.lease_hours = lease;
    }
    body.source = this.source.value as 'submitted' | 'autograded';
    if (this.across.checked) {
      body.across_cohorts = true;
    }
    if (this.teams.checked) {
      body.separate_teams = true;
    }
    if (!this.names.ready()) {
      return this.names.blocker();
    }
    body.words = this.names.decisions();
    return body;
  }

  private async start(): Promise<void> {
    const body = this.request();
    if (typeof body === 'string') {
      this.say(body, true);
      return;
    }
    this.busy = true;
    this.submit.disabled = true;
    this.say('Starting…');
    try {
      const { job } = await this.api.openRound(body);
      this.started(body.assignment);
      this.jobs.track(job);
      this.names.reset(); // decisions hold for this run: a later run checks again
      this.say('Started: the progress is shown below.');
    } catch (reason) {
      this.say(errorText(reason), true);
    } finally {
      this.busy = false;
      this.updateRerun();
    }
  }

  private say(text: string, error = false): void {
    if (error) {
      this.status.setAttribute('role', 'alert');
    } else {
      this.status.removeAttribute('role');
    }
    this.status.dataset.state = error ? 'error' : 'ok';
    this.status.textContent = text;
  }

  /** The course's folder last found in this browser (for the export job); '' for none,
   * and then the server uses the folder nbgrader's config names. */
  folderValue(): string {
    return this.found && this.found.course_id === this.course
      ? this.found.folder
      : this.savedFolder();
  }

  private savedFolder(): string {
    try {
      return window.localStorage.getItem(this.storageKey) ?? '';
    } catch {
      return '';
    }
  }

  private saveFolder(folder: string): void {
    try {
      window.localStorage.setItem(this.storageKey, folder);
    } catch {
      // storage refused (private mode): the folder is asked again next time
    }
  }

  private get storageKey(): string {
    return `cohortlab:review-course-folder:${this.course}`;
  }

  /** Recompute the rerun note and button (the panel's list of rounds changed). */
  refresh(): void {
    this.updateRerun();
  }

  private folder!: HTMLInputElement;
  private courseNote!: HTMLElement;
  private assignment!: HTMLSelectElement;
  private k!: HTMLInputElement;
  private due!: HTMLInputElement;
  private lease!: HTMLInputElement;
  private source!: HTMLSelectElement;
  private across!: HTMLInputElement;
  private teams!: HTMLInputElement;
  private rerun!: HTMLElement;
  private names!: NameCheckStep;
  private blocker!: HTMLElement;
  private submit!: HTMLButtonElement;
  private status!: HTMLElement;
  private found: INbgraderCourse | null = null;
  private looked = false;
  /** The assignment whose round's settings are in the form. */
  private prefilled: string | null = null;
  private busy = false;
}
