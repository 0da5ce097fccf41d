import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Who last edited and who last ran one cell (hub user names, epoch seconds). */
export interface ICellRecord {
  edited_by: string | null;
  edited_at: number | null;
  run_by: string | null;
  run_at: number | null;
}

/** `GET <server>/cohortlab/workspace[?path=]`: only workspace servers answer it. */
export interface IWorkspaceInfo {
  course: string | null;
  cohort: string | null;
  me: string | null;
  /** Who has the workspace open now, from their authenticated connections. */
  present: string[];
  /** Whether edits are attributed (the collaboration room handler was hooked). */
  attribution: boolean;
  /** The cohort chat's path in the workspace (a jupyterlab-chat `.chat` file). */
  chat: string | null;
  /** Cell id -> record, for the notebook asked about. */
  cells: Record<string, ICellRecord>;
}

/**
 * Ask this server what it knows about the workspace; null when it is not a cohort
 * workspace (the workspace server extension is loaded on workspace servers only).
 */
export async function workspaceInfo(
  path = '',
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IWorkspaceInfo | null> {
  let url = URLExt.join(settings.baseUrl, 'cohortlab', 'workspace');
  if (path) {
    url += `?path=${encodeURIComponent(path)}`;
  }
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (response.status === 404) {
    return null;
  }
  if (!response.ok) {
    throw new Error(`The workspace server answered ${response.status}.`);
  }
  return (await response.json()) as IWorkspaceInfo;
}

/** "ada", "ada and ben", "ada, ben and cy" */
export function names(people: string[]): string {
  if (people.length <= 1) {
    return people[0] ?? '';
  }
  return `${people.slice(0, -1).join(', ')} and ${people[people.length - 1]}`;
}

/** The line under a cell: "last edited by ada · last run by ben" (empty when unknown). */
export function attributionLine(record: ICellRecord | undefined, me: string | null): string {
  if (!record) {
    return '';
  }
  const who = (name: string) => (name === me ? `${name} (you)` : name);
  const parts: string[] = [];
  if (record.edited_by) {
    parts.push(`last edited by ${who(record.edited_by)}`);
  }
  if (record.run_by) {
    parts.push(`last run by ${who(record.run_by)}`);
  }
  return parts.join(' · ');
}

/** A Markdown link to a cell that JupyterLab follows (it opens the notebook at the cell). */
export function cellLink(path: string, cellId: string, label: string): string {
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `[${label.replace(/[[\]]/g, '')}](${file}#cell-id=${encodeURIComponent(cellId)})`;
}
