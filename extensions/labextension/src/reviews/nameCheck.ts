import { el, errorText, uniqueId } from '../discussions/render';
import { INameCheck, INameFinding, NameDecision } from './types';

/** What the check is about: a change to any of these makes it stale. */
export interface INameCheckKey {
  course: string;
  assignment: string;
  folder: string;
  source: 'submitted' | 'autograded';
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The "Open a round" form's check step: before a round opens, the words that are both a
 * learner's name and a common word (Will, Rose, Grant…) in the submissions the run would
 * upload, each with whose submission, how many places and excerpts, and a choice per word:
 * replace it everywhere it stands alone, or keep it. The round opens only once every word
 * has a choice ({@link ready}); decisions hold for that run only, so the check is made again
 * (and forgotten: {@link reset}) for every run, a late-submission run included.
 */
export class NameCheckStep {
  constructor(
    private readonly run: (key: INameCheckKey) => Promise<INameCheck>,
    private readonly changed: () => void
  ) {
    this.node = el('fieldset', { class: 'cl-NameCheck' });
    this.node.dataset.testid = 'cl-open-round-names';
    const legend = el('legend', {}, 'Names that are also common words');
    this.button = el('button', { type: 'button', class: 'jp-Button jp-mod-styled' }, 'Check names');
    this.button.dataset.testid = 'cl-open-round-check-names';
    this.button.setAttribute(
      'aria-label',
      "Check the submissions for learners' names that are also common words"
    );
    this.button.addEventListener('click', () => void this.check());
    this.summary = el('p', { class: 'cl-Panel-note', 'aria-live': 'polite' });
    this.summary.dataset.testid = 'cl-open-round-names-summary';
    this.list = el('div', { class: 'cl-NameCheck-words' });
    this.node.append(legend, this.button, this.summary, this.list);
    this.reset(false);
  }

  readonly node: HTMLFieldSetElement;

  /** Set before checking: what to check (null when the form is not ready for it). */
  key: INameCheckKey | null = null;

  /** Forget the check (the assignment, folder or source changed, or a run started). */
  reset(notify = true): void {
    this.result = null;
    this.checkedKey = '';
    this.choices.clear();
    this.list.replaceChildren();
    this.summary.removeAttribute('role');
    this.summary.textContent =
      "Before the round opens, check the submissions for learners' names that are also " +
      'common words: you decide for each whether it is replaced or kept.';
    if (notify) {
      this.changed();
    }
  }

  /** Checked for what the form says now, and every word found has a choice. */
  ready(): boolean {
    if (!this.result || !this.key || this.checkedKey !== JSON.stringify(this.key)) {
      return false;
    }
    return this.words().every(word => this.choices.has(word));
  }

  /** Why the round cannot open yet ('' when it can). */
  blocker(): string {
    if (!this.result || !this.key || this.checkedKey !== JSON.stringify(this.key)) {
      return 'Check names first.';
    }
    const open = this.words().filter(word => !this.choices.has(word));
    return open.length
      ? `Choose replace or keep for ${open.map(w => `“${w}”`).join(', ')}.`
      : '';
  }

  /** The choices, for the open request. */
  decisions(): Record<string, NameDecision> {
    return Object.fromEntries(this.choices);
  }

  private words(): string[] {
    return [...new Set((this.result?.findings ?? []).map(f => f.word))].sort();
  }

  private async check(): Promise<void> {
    const key = this.key;
    if (!key) {
      this.say('Look up the course and choose an assignment first.', true);
      return;
    }
    this.reset(false);
    this.button.disabled = true;
    this.say('Checking the submissions…');
    try {
      const result = await this.run(key);
      this.result = result;
      this.checkedKey = JSON.stringify(key);
      this.render(result);
    } catch (reason) {
      this.say(errorText(reason), true);
    } finally {
      this.button.disabled = false;
      this.changed();
    }
  }

  private render(result: INameCheck): void {
    const words = this.words();
    const checked = plural(result.checked.length, 'submission', 'submissions');
    if (!words.length) {
      this.say(
        result.checked.length
          ? `Nothing to decide: in the ${checked} this run uploads, no learner's name is ` +
              'also a common word.'
          : 'Nothing to decide: every submission is in the round already.'
      );
      this.summary.dataset.state = 'empty';
      return;
    }
    this.say(
      `${plural(words.length, 'word', 'words')} in the ${checked} this run uploads ` +
        `${words.length === 1 ? 'is' : 'are'} both a learner's name and a common word. ` +
        'Choose for each: these choices hold for this run only.'
    );
    this.summary.dataset.state = 'words';
    for (const word of words) {
      this.list.append(this.wordChoice(word, result.findings.filter(f => f.word === word)));
    }
  }

  private wordChoice(word: string, found: INameFinding[]): HTMLElement {
    const places = found.reduce((sum, f) => sum + f.count, 0);
    const group = el('fieldset', { class: 'cl-NameCheck-word' });
    group.dataset.testid = 'cl-open-round-word';
    group.dataset.word = word;
    const detailsId = uniqueId('cl-name-details');
    group.setAttribute('aria-describedby', detailsId);
    group.append(
      el(
        'legend',
        {},
        `“${word}”: ${plural(places, 'place', 'places')} in ` +
          plural(new Set(found.map(f => f.student)).size, 'submission', 'submissions')
      )
    );
    const details = el('ul', { id: detailsId, class: 'cl-NameCheck-places' });
    for (const f of found) {
      const item = el('li', {});
      item.dataset.testid = 'cl-open-round-word-place';
      item.append(
        el(
          'span',
          {},
          `${f.student}'s ${f.notebook}: ${plural(f.count, 'place', 'places')}, as ` +
            f.forms.map(form => `“${form}”`).join(', ')
        )
      );
      const excerpts = el('ul', { class: 'cl-NameCheck-excerpts' });
      for (const excerpt of f.excerpts) {
        const line = el('li', {}, excerpt);
        line.dataset.testid = 'cl-open-round-word-excerpt';
        excerpts.append(line);
      }
      item.append(excerpts);
      details.append(item);
    }
    group.append(details);
    const name = uniqueId('cl-name-choice');
    const options: [NameDecision, string][] = [
      ['replace', 'Replace it with “learner” wherever it stands alone'],
      ['keep', 'Keep it (also where it names the learner)']
    ];
    for (const [value, label] of options) {
      const id = uniqueId('cl-name-option');
      const radio = el('input', { type: 'radio', name, id, value });
      radio.dataset.testid = `cl-open-round-word-${value}`;
      radio.addEventListener('change', () => {
        if (radio.checked) {
          this.choices.set(word, value);
          this.changed();
        }
      });
      const row = el('div', { class: 'cl-OpenRound-check' });
      row.append(radio, el('label', { for: id }, label));
      group.append(row);
    }
    return group;
  }

  private say(text: string, error = false): void {
    if (error) {
      this.summary.setAttribute('role', 'alert');
    } else {
      this.summary.removeAttribute('role');
    }
    delete this.summary.dataset.state;
    this.summary.textContent = text;
  }

  private readonly button: HTMLButtonElement;
  private readonly summary: HTMLElement;
  private readonly list: HTMLElement;
  private result: INameCheck | null = null;
  private checkedKey = '';
  private readonly choices = new Map<string, NameDecision>();
}
