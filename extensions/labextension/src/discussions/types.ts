/** The discussion API's shapes (see the service's OpenAPI document). */

export interface IPost {
  id: number;
  thread_id: number;
  parent_id: number | null;
  author: string | null;
  anonymous: boolean;
  mine: boolean;
  body: string | null;
  deleted: boolean;
  hidden: boolean;
  created_at: string;
  edited_at: string | null;
  votes: number;
  voted: boolean;
  endorsed: boolean;
  endorsed_by: string | null;
  accepted: boolean;
}

export interface IThread {
  id: number;
  course: string;
  notebook_key: string | null;
  cell_key: string | null;
  category: string | null;
  /** `path`, when present, is where the notebook was when the thread was opened. */
  anchor?: { quote: string; path?: string } | null;
  kind: 'comment' | 'question' | 'note';
  title: string;
  visibility: 'course' | 'cohort' | 'staff';
  cohort: string | null;
  author: string | null;
  anonymous: boolean;
  mine: boolean;
  resolved: boolean;
  pinned: boolean;
  locked: boolean;
  hidden: boolean;
  deleted: boolean;
  accepted_post_id: number | null;
  reply_count: number;
  following: boolean;
  created_at: string;
  last_activity_at: string;
  posts?: IPost[];
}

/** Where the panel is looking: a course, and maybe a notebook and one of its cells. */
export interface IScope {
  course: string;
  notebookKey: string | null;
  cellKey: string | null;
}

/** `GET courses/{course}/posts/{id}/revisions`: earlier bodies, oldest first. */
export interface IRevision {
  body: string;
  edited_at: string;
}

/** One flagged post in `GET courses/{course}/flags`. */
export interface IFlaggedPost {
  post_id: number;
  thread_id: number;
  thread_title: string;
  author: string | null;
  body: string | null;
  hidden: boolean;
  count: number;
  reasons: { by: string | null; reason: string }[];
}

/** Where a staff member may move a thread to, read from the notebook open right now. */
export interface IMoveTargets {
  /** The current notebook's key and a name to show, when a course notebook is open. */
  notebook: { key: string; label: string } | null;
  /** Its active cell, when one is selected, and how to fingerprint it for the anchor. */
  cell: { key: string; label: string; anchor: () => Promise<Record<string, unknown>> } | null;
}

/** What survives the panel redrawing its thread views: open threads, drafts, open forms. */
export interface IViewState {
  expanded: Set<number>;
  drafts: Map<number, string>;
  /** Posts whose revision history is shown. */
  histories: Set<number>;
  /** Posts of mine being edited, with the text typed so far. */
  editing: Map<number, string>;
  /** Threads whose "Move…" form is open, with what was chosen and typed in it. */
  moving: Map<number, IMoveDraft>;
}

/** A half-filled "Move…" form: a redraw (news from someone else) must not reset it. */
export interface IMoveDraft {
  /** The radio value picked (`notebook`, `cell`, `course`), or null for the first one. */
  choice: string | null;
  category: string;
}
