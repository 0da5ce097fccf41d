/**
 * The anchor stored with a thread: the cell's key, a quote of it, and hashes of its
 * source and its neighbours' — the same rules as `cohortlab.discussions.anchoring`
 * (a browser test checks both sides agree), so the service can find the cell again
 * in a copy whose ids changed.
 */
import { cellKey, ICellLike } from './notebook';

const QUOTE_LENGTH = 200;

export interface IAnchor {
  cell_key: string | null;
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
    quote: quote(text),
    source_hash: await sha256(normalise(text)),
    prev_hash: prev === null ? null : await sha256(normalise(prev)),
    next_hash: next === null ? null : await sha256(normalise(next))
  };
}
