import { ISignal, Signal } from '@lumino/signaling';

import { el, errorText } from '../discussions/render';
import { ReviewAPI } from './api';
import { when } from './fields';
import { IJob } from './types';

/** How often a running job is asked about, in ms. */
const POLL_MS = 1000;
/** The last lines of a job's log shown under its progress bar. */
const SHOWN_LINES = 12;

/**
 * The open and export jobs of the instructor's own server, followed while they run. The
 * server keeps them, so after a reload `load()` finds a running one again and it is shown
 * where it was. Each job has one element, updated in place, that the panel re-appends when
 * it redraws (so a redraw never loses a progress bar or where focus was).
 */
export class JobTracker {
  constructor(private readonly api: ReviewAPI) {}

  /** A job not known before (started here, or found running after a reload). */
  get added(): ISignal<this, IJob> {
    return this._added;
  }

  /** A job followed here ended (done or failed): the rounds may have changed. */
  get finished(): ISignal<this, IJob> {
    return this._finished;
  }

  /** The jobs the server has (running ones are then followed); quiet if it has no such route. */
  async load(): Promise<void> {
    try {
      const { jobs } = await this.api.jobs();
      for (const job of jobs) {
        this.update(job);
      }
    } catch {
      // a server without the review jobs extension: nothing to show again
    }
  }

  /** A job just started (the server's 202 answer). */
  track(job: IJob): void {
    this.update(job);
  }

  /** The newest job of a kind for a round, if any. */
  latest(course: string, assignment: string, kind: IJob['kind']): IJob | undefined {
    let found: IJob | undefined;
    for (const job of this.jobs.values()) {
      if (job.course === course && job.assignment === assignment && job.kind === kind) {
        if (!found || (job.started_at ?? '') >= (found.started_at ?? '')) {
          found = job;
        }
      }
    }
    return found;
  }

  /** Open jobs of a course, newest first. */
  opening(course: string): IJob[] {
    return [...this.jobs.values()]
      .filter(j => j.course === course && j.kind === 'open')
      .sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''));
  }

  /** The element showing a job (made once, kept up to date). */
  view(job: IJob): HTMLElement {
    let node = this.views.get(job.id);
    if (!node) {
      node = el('div', { class: 'cl-Job' });
      node.dataset.testid = 'cl-review-job';
      node.dataset.job = job.id;
      this.views.set(job.id, node);
      renderJob(node, job);
    }
    return node;
  }

  private update(job: IJob): void {
    const was = this.jobs.get(job.id);
    this.jobs.set(job.id, job);
    const node = this.views.get(job.id);
    if (node) {
      renderJob(node, job);
    }
    if (!was) {
      this._added.emit(job);
    }
    if (job.state === 'running') {
      this.follow(job.id);
    } else if (was?.state === 'running') {
      this._finished.emit(job);
    }
  }

  private follow(id: string): void {
    if (this.timers.has(id)) {
      return;
    }
    const tick = async (): Promise<void> => {
      let job: IJob;
      try {
        job = (await this.api.job(id)).job;
      } catch (reason) {
        const known = this.jobs.get(id);
        this.timers.delete(id);
        if (known) {
          const lost: IJob = {
            ...known,
            state: 'failed',
            error: { code: 'lost', message: `Could not follow this job: ${errorText(reason)}` }
          };
          this.update(lost);
        }
        return;
      }
      this.timers.delete(id);
      this.update(job);
    };
    this.timers.set(
      id,
      window.setTimeout(() => void tick(), POLL_MS)
    );
  }

  private readonly jobs = new Map<string, IJob>();
  private readonly views = new Map<string, HTMLElement>();
  private readonly timers = new Map<string, number>();
  private readonly _added = new Signal<this, IJob>(this);
  private readonly _finished = new Signal<this, IJob>(this);
}

const KIND: Record<IJob['kind'], string> = {
  open: 'Opening the round',
  export: 'Exporting to the gradebook'
};

/** What a finished job did, in a line, from the server's result object. */
export function resultText(job: IJob): string {
  const r = (job.result ?? {}) as Record<string, unknown>;
  const n = (key: string): number | null =>
    typeof r[key] === 'number' ? (r[key] as number) : null;
  const plural = (count: number, word: string): string =>
    `${count} ${word}${count === 1 ? '' : 's'}`;
  if (job.kind === 'open' && n('submissions') !== null) {
    const parts = [
      `${r.created ? 'Opened' : 'Updated'} the round: ${plural(n('submissions')!, 'submission')}`,
      `${n('added_submissions') ?? 0} new`,
      `${plural(n('added_assignments') ?? 0, 'review')} allocated now`
    ];
    const autograde = r.autograde as { stored?: number; note?: string | null } | undefined;
    if (autograde?.note) {
      parts.push(autograde.note);
    } else if (typeof autograde?.stored === 'number') {
      parts.push(`nbgrader's scores of ${plural(autograde.stored, 'submission')} sent`);
    }
    return parts.join(', ') + '.';
  }
  if (job.kind === 'export' && n('written') !== null) {
    const notes = Array.isArray(r.notes) ? (r.notes as unknown[]).map(String) : [];
    return (
      `${r.dry_run ? 'Would write' : 'Wrote'} ${plural(n('written')!, 'score')} of ` +
      `${plural(n('submissions') ?? 0, 'submission')} into the gradebook` +
      (notes.length ? ` (${notes.join('; ')})` : '') +
      '.'
    );
  }
  const bits: string[] = [];
  for (const [key, value] of Object.entries(r)) {
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
      bits.push(`${key.replace(/_/g, ' ')}: ${value}`);
    }
  }
  return bits.join(' · ');
}

/** The parts of a job's element, made once so its live region stays the same node. */
function skeleton(node: HTMLElement): {
  title: HTMLElement;
  bar: HTMLProgressElement;
  phase: HTMLElement;
  error: HTMLElement;
  details: HTMLDetailsElement;
  summary: HTMLElement;
  lines: HTMLElement;
  finished: HTMLElement;
} {
  if (!node.firstChild) {
    const bar = el('progress', { class: 'cl-Job-bar' });
    bar.dataset.testid = 'cl-review-job-progress';
    const phase = el('p', { class: 'cl-Job-phase', 'aria-live': 'polite' });
    phase.dataset.testid = 'cl-review-job-phase';
    const error = el('p', { class: 'cl-Panel-error', role: 'alert' });
    error.dataset.testid = 'cl-review-job-error';
    const details = el('details', { class: 'cl-Job-lines' });
    details.dataset.testid = 'cl-review-job-lines';
    details.append(el('summary'), el('pre'));
    node.append(el('h5'), bar, phase, error, details, el('p', { class: 'cl-Panel-note' }));
  }
  const [title, bar, phase, error, details, finished] = Array.from(node.children) as HTMLElement[];
  return {
    title,
    bar: bar as HTMLProgressElement,
    phase,
    error,
    details: details as HTMLDetailsElement,
    summary: details.children[0] as HTMLElement,
    lines: details.children[1] as HTMLElement,
    finished
  };
}

/** Draw a job into its element: heading, a real progress bar, phase, lines, outcome. */
export function renderJob(node: HTMLElement, job: IJob): void {
  const was = node.dataset.state;
  node.dataset.state = job.state;
  node.dataset.kind = job.kind;
  const parts = skeleton(node);
  const title = `${KIND[job.kind]} ${job.assignment}`;
  parts.title.textContent = title;
  const bar = parts.bar;
  bar.setAttribute('aria-label', `${title}: progress`);
  if (job.total > 0) {
    bar.max = job.total;
    bar.value = job.state === 'done' ? job.total : Math.min(job.done, job.total);
  } else if (job.state !== 'running') {
    bar.max = 1;
    bar.value = job.state === 'done' ? 1 : 0;
  } else {
    bar.removeAttribute('value'); // indeterminate until the server knows how many
  }
  const counts = job.total > 0 ? ` (${job.done} of ${job.total})` : '';
  if (job.state === 'running') {
    parts.phase.textContent = `${job.phase || 'Starting'}${counts}`;
  } else if (job.state === 'done') {
    parts.phase.textContent = `Done${counts}. ${resultText(job)}`.trim();
  } else {
    parts.phase.textContent = 'Failed.';
  }
  parts.error.hidden = !job.error;
  parts.error.textContent = job.error?.message ?? '';
  parts.details.hidden = !job.lines.length;
  if (job.state === 'failed' && was !== 'failed') {
    parts.details.open = true;
  }
  parts.summary.textContent = `Output (${job.lines.length} line${job.lines.length === 1 ? '' : 's'})`;
  parts.lines.textContent = job.lines.slice(-SHOWN_LINES).join('\n');
  parts.finished.hidden = !job.finished_at;
  parts.finished.textContent = job.finished_at ? `Finished ${when(job.finished_at)}` : '';
}
