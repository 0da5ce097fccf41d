import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { applyFocus, el, errorText, focusMark } from '../discussions/render';
import { ICohortLabEvent, IMe } from '../tokens';
import { ReviewAPI } from './api';
import { when } from './fields';
import { JobTracker } from './jobs';
import { IStaffOpeners, StaffCourse } from './staff';
import { IAssignment, IRound, IStaffRound } from './types';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161">
<path d="M4 3h11l5 5v13H4zm10 1.5V9h4.5z" opacity=".35"/>
<path d="M7 12h10v1.6H7zm0 3.2h7v1.6H7z"/>
<path d="M15.2 17.6l1.5-3.6 3.9-3.9 2.1 2.1-3.9 3.9z"/></g></svg>`;

export const reviewIcon = new LabIcon({ name: 'cohortlab:peer-review', svgstr: ICON_SVG });

const STATE_LABEL: Record<string, string> = {
  not_opened: 'not started',
  opened: 'not started',
  draft: 'draft',
  submitted: 'submitted'
};

export interface IReviewOpeners extends IStaffOpeners {
  openReview(course: string, assignment: string, submission: number): Promise<void>;
  openFeedback(course: string, assignment: string): Promise<void>;
}

/**
 * The "Peer review" side panel: for each of my courses, each round with my due date and
 * the submissions I review (state, lease), a way to open each, to ask for one more when
 * I am done, and to see the feedback on my own work once it is released. In a course where
 * I am staff, the rounds with their progress instead (`StaffCourse`).
 */
export class ReviewsPanel extends Widget {
  constructor(
    private readonly api: ReviewAPI,
    private readonly openers: IReviewOpeners
  ) {
    super();
    this.id = 'cohortlab-peer-review';
    this.addClass('cl-Panel');
    this.addClass('cl-ReviewsPanel');
    this.title.icon = reviewIcon;
    this.title.caption = 'Peer review';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Peer review');
    this.node.dataset.testid = 'cl-reviews-panel';
    this.jobs = new JobTracker(api);
    api.client.events.connect((_, event: ICohortLabEvent) => {
      if (event.type === 'review') {
        void this.refresh();
      }
    });
    // a finished job changed the rounds (opened, added to) or what was exported
    this.jobs.finished.connect(() => void this.refresh());
    // a job still running after a reload is drawn where it belongs
    this.jobs.added.connect((_, job) => {
      if (job.state === 'running') {
        void this.refresh();
      }
    });
    void this.refresh();
  }

  /** The jobs of my server, found again after a reload once I am known to be an instructor. */
  private loadJobs(): void {
    if (!this.jobsLoaded) {
      this.jobsLoaded = true;
      void this.jobs.load();
    }
  }

  async refresh(): Promise<void> {
    const generation = ++this.generation;
    this.node.setAttribute('aria-busy', 'true');
    let me: IMe;
    const rounds = new Map<string, IRound[] | Error>();
    try {
      me = await this.api.client.requestAPI<IMe>('me');
      await Promise.all(
        me.courses.map(async course => {
          try {
            const found = (await this.api.rounds(course.id)).rounds;
            rounds.set(course.id, found);
          } catch (reason) {
            rounds.set(course.id, reason as Error);
          }
        })
      );
    } catch (reason) {
      if (generation === this.generation) {
        this.showError(reason);
      }
      return;
    }
    if (generation !== this.generation) {
      return;
    }
    this.node.setAttribute('aria-busy', 'false');
    const parts: HTMLElement[] = [this.header()];
    if (!me.courses.length) {
      parts.push(el('p', { class: 'cl-Panel-empty' }, 'You are not in any course yet.'));
    }
    for (const course of me.courses) {
      const section = el('section', { class: 'cl-Reviews-course' });
      section.dataset.testid = 'cl-reviews-course';
      section.dataset.course = course.id;
      section.append(el('h3', {}, course.id));
      const found = rounds.get(course.id);
      if (found instanceof Error || found === undefined) {
        section.append(this.errorLine(found));
      } else if (course.role !== 'learner') {
        if (course.role === 'instructor') {
          this.loadJobs();
        }
        section.dataset.role = course.role;
        section.append(
          ...this.staffCourse(course.id).render(course.role, found as unknown as IStaffRound[])
        );
      } else if (!found.length) {
        section.append(el('p', { class: 'cl-Panel-empty' }, 'No peer review in this course yet.'));
      } else {
        for (const round of found) {
          section.append(this.roundView(course.id, round));
        }
      }
      parts.push(section);
    }
    const mark = focusMark(this.node);
    this.node.replaceChildren(...parts);
    if (mark) {
      applyFocus(this.node, mark);
    }
  }

  private staffCourse(course: string): StaffCourse {
    let staff = this.staff.get(course);
    if (!staff) {
      staff = new StaffCourse(this.api, this.jobs, course, this.openers, () => void this.refresh());
      this.staff.set(course, staff);
    }
    return staff;
  }

  private header(): HTMLElement {
    const head = el('div', { class: 'cl-Reviews-head' });
    const refresh = el('button', { type: 'button', class: 'jp-Button' });
    refresh.textContent = 'Refresh';
    refresh.setAttribute('aria-label', 'Refresh my peer reviews');
    refresh.addEventListener('click', () => void this.refresh());
    head.append(el('h2', { class: 'cl-Panel-title' }, 'Peer review'), refresh);
    return head;
  }

  private roundView(course: string, round: IRound): HTMLElement {
    const box = el('div', { class: 'cl-Reviews-round' });
    box.dataset.testid = 'cl-reviews-round';
    box.dataset.assignment = round.assignment;
    box.append(el('h4', {}, round.assignment));
    box.append(
      el(
        'p',
        { class: 'cl-Panel-note' },
        `Due ${when(round.due_at)} · ` +
          (round.reviewing_open ? 'reviewing open' : 'reviewing closed') +
          (round.released ? ' · feedback released' : '')
      )
    );
    const mine = round.assignments ?? [];
    if (!mine.length) {
      box.append(el('p', { class: 'cl-Panel-empty' }, 'Nothing for you to review in this round.'));
    } else {
      const list = el('ul', { class: 'cl-Reviews-list' });
      for (const a of mine) {
        list.append(this.assignmentItem(course, round, a));
      }
      box.append(list);
    }
    const status = el('p', { class: 'cl-Reviews-status', 'aria-live': 'polite' });
    const done = mine.length > 0 && mine.every(a => a.state === 'submitted');
    if (round.reviewing_open && done) {
      const more = el('button', { type: 'button', class: 'jp-Button' });
      more.textContent = 'Ask for another review';
      more.dataset.testid = 'cl-reviews-extra';
      more.addEventListener('click', () => {
        more.disabled = true;
        void this.api.extra(course, round.assignment).then(
          () => this.refresh(),
          reason => {
            more.disabled = false;
            status.setAttribute('role', 'alert');
            status.textContent = errorText(reason);
          }
        );
      });
      box.append(more);
    }
    if (round.released) {
      const feedback = el('button', { type: 'button', class: 'jp-Button' });
      feedback.textContent = 'See the feedback on my work';
      feedback.dataset.testid = 'cl-reviews-feedback';
      feedback.addEventListener('click', () => {
        status.textContent = '';
        void this.openers.openFeedback(course, round.assignment).catch(reason => {
          status.setAttribute('role', 'alert');
          status.textContent = errorText(reason);
        });
      });
      box.append(feedback);
    }
    box.append(status);
    return box;
  }

  private assignmentItem(course: string, round: IRound, a: IAssignment): HTMLElement {
    const item = el('li', { class: 'cl-Reviews-item' });
    item.dataset.testid = 'cl-reviews-assignment';
    item.dataset.submission = String(a.submission);
    item.dataset.state = a.state;
    const label = STATE_LABEL[a.state] ?? a.state;
    item.append(
      el('span', { class: 'cl-Reviews-name' }, a.name + (a.extra ? ' (extra)' : '')),
      el('span', { class: `cl-Reviews-state cl-Reviews-state-${a.state}` }, label)
    );
    const lines: string[] = [`due ${when(a.due_at)}`];
    if (a.lease_expires_at) {
      lines.push(`open it before ${when(a.lease_expires_at)} or it goes to someone else`);
    }
    item.append(el('span', { class: 'cl-Panel-note cl-Reviews-when' }, lines.join(' · ')));
    const open = el('button', { type: 'button', class: 'jp-Button cl-Reviews-open' });
    open.textContent = !a.can_edit
      ? 'View'
      : a.state === 'draft' || a.state === 'submitted'
        ? 'Continue'
        : 'Open';
    open.setAttribute(
      'aria-label',
      `${open.textContent} the review of ${a.name} (${round.assignment})`
    );
    open.dataset.testid = 'cl-reviews-open';
    const error = el('span', { class: 'cl-Reviews-status', 'aria-live': 'polite' });
    open.addEventListener('click', () => {
      open.disabled = true;
      error.textContent = 'Opening…';
      void this.openers.openReview(course, round.assignment, a.submission).then(
        () => {
          open.disabled = false;
          error.textContent = '';
        },
        reason => {
          open.disabled = false;
          error.setAttribute('role', 'alert');
          error.textContent = errorText(reason);
        }
      );
    });
    item.append(open, error);
    return item;
  }

  private errorLine(reason: unknown): HTMLElement {
    const p = el('p', { class: 'cl-Panel-error', role: 'alert' }, errorText(reason));
    p.dataset.testid = 'cl-reviews-error';
    return p;
  }

  private showError(reason: unknown): void {
    this.node.setAttribute('aria-busy', 'false');
    const retry = el('button', { type: 'button', class: 'jp-Button' });
    retry.textContent = 'Retry';
    retry.addEventListener('click', () => void this.refresh());
    this.node.replaceChildren(this.header(), this.errorLine(reason), retry);
  }

  private generation = 0;
  private jobsLoaded = false;
  private readonly jobs: JobTracker;
  private readonly staff = new Map<string, StaffCourse>();
}
