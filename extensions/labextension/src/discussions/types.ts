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
  anchor?: { quote: string } | null;
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
