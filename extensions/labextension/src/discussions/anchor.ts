/**
 * The anchor stored with a thread: the cell's key, a quote of it, and hashes of its
 * source and its neighbours' — the same rules as `cohortlab.discussions.anchoring`
 * (a browser test checks both sides agree), so the service can find the cell again
 * in a copy whose ids changed.
 */
import { cellKey, cellKeyKind, ICellLike } from './notebook';

const QUOTE_LENGTH = 200;

export interface IAnchor {
  cell_key: string | null;
  key_kind: 'grade_id' | 'stamp' | 'id';
  quote: string;
  source_hash: string;
  prev_hash: string | null;
  next_hash: string | null;
}

export function normalise(source: string): string {
  const lines = source
    .replace(/\r\n/g, '\n')
    .replace(/\r/g, '\n')
    .split('\n')
    .map(line => line.replace(/[ \t\f\v]+$/, ''));
  let start = 0;
  let end = lines.length;
  while (start < end && !lines[start]) {
    start++;
  }
  while (end > start && !lines[end - 1]) {
    end--;
  }
  return lines.slice(start, end).join('\n');
}

export function quote(source: string): string {
  const text = source.split(/\s+/).filter(Boolean).join(' ');
  if (text.length <= QUOTE_LENGTH) {
    return text;
  }
  const space = text.lastIndexOf(' ', QUOTE_LENGTH);
  const cut = space >= Math.floor((QUOTE_LENGTH * 3) / 4) ? space : QUOTE_LENGTH;
  return text.slice(0, cut) + '…';
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('');
}

function source(cell: ICellLike | undefined): string | null {
  return cell ? cell.model.sharedModel.getSource() : null;
}

export async function fingerprint(cells: ReadonlyArray<ICellLike>, index: number): Promise<IAnchor> {
  const text = source(cells[index]) ?? '';
  const prev = index > 0 ? source(cells[index - 1]) : null;
  const next = index + 1 < cells.length ? source(cells[index + 1]) : null;
  return {
    cell_key: cellKey(cells[index]),
    key_kind: cellKeyKind(cells[index]),
    quote: quote(text),
    source_hash: await sha256(normalise(text)),
    prev_hash: prev === null ? null : await sha256(normalise(prev)),
    next_hash: next === null ? null : await sha256(normalise(next))
  };
}

const KEEP_SIMILARITY = 0.6;

/** Dice similarity of character bigrams: a cheap stand-in for difflib's ratio. */
function similarity(a: string, b: string): number {
  if (a === b) {
    return 1;
  }
  const grams = (s: string) => {
    const out = new Map<string, number>();
    for (let i = 0; i < s.length - 1; i++) {
      const g = s.slice(i, i + 2);
      out.set(g, (out.get(g) ?? 0) + 1);
    }
    return out;
  };
  const x = grams(a);
  const y = grams(b);
  let shared = 0;
  for (const [g, n] of x) {
    shared += Math.min(n, y.get(g) ?? 0);
  }
  const total = Math.max(a.length - 1, 0) + Math.max(b.length - 1, 0);
  return total ? (2 * shared) / total : 0;
}

/**
 * How each cell thread sits in this copy: nothing when its cell is here and much the
 * same, "cell removed" when no cell has its key, "cell changed since" when the cell's
 * text moved far from the quote kept with the thread. Threads are never dropped:
 * the panel shows the marked ones at notebook level.
 */
export async function placeThreads(
  panel: { content: { widgets: ReadonlyArray<ICellLike> } },
  threads: { id: number; cell_key: string | null; anchor?: { quote: string } | null }[]
): Promise<Map<number, string>> {
  const cells = new Map<string, ICellLike>();
  for (const cell of panel.content.widgets) {
    cells.set(cellKey(cell), cell);
  }
  const marks = new Map<number, string>();
  for (const thread of threads) {
    if (!thread.cell_key) {
      continue;
    }
    const cell = cells.get(thread.cell_key);
    if (!cell) {
      marks.set(thread.id, 'cell removed');
      continue;
    }
    if (cell.model.getMetadata('nbgrader')?.grade_id) {
      // a graded cell is named exactly by its grade_id, and learners are meant to
      // rewrite solution cells: its threads stay on it (as in anchoring.py)
      continue;
    }
    const kept = thread.anchor?.quote;
    const now = quote(source(cell) ?? '');
    if (kept !== undefined && similarity(kept, now) < KEEP_SIMILARITY) {
      marks.set(thread.id, 'cell changed since');
    }
  }
  return marks;
}
