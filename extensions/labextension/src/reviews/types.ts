/** What the service's peer review routes send (docs/peer-review.md, openapi_reviews.py). */

export type ReviewState = 'not_opened' | 'opened' | 'draft' | 'submitted';

export interface IRoundInfo {
  assignment: string;
  course: string;
  state: string;
  k: number;
  due_at: string | null;
  lease_hours: number | null;
  names_visible: boolean;
  released: boolean;
  reviewing_open: boolean;
}

export interface IAssignment {
  submission: number;
  name: string;
  state: ReviewState;
  extra: boolean;
  assigned_at: string | null;
  opened_at: string | null;
  lease_expires_at: string | null;
  due_at: string | null;
  can_edit: boolean;
}

/** A learner's entry of `GET courses/<c>/reviews`; staff get other fields (no assignments). */
export interface IRound extends IRoundInfo {
  assignments?: IAssignment[];
}

export interface ICriterion {
  key: string;
  kind: 'nbgrader' | 'instructor';
  title: string;
  description: string;
  max_points: number;
  notebook: string | null;
  grade_id: string | null;
}

export interface ICellInfo {
  status: 'unchanged' | 'changed' | 'added' | 'unknown';
  outputs: number;
}

export interface ICopyNotebook {
  name: string;
  cells: ICellInfo[];
  content?: unknown;
}

export interface IScore {
  score: number | null;
  comment: string;
}

export interface ICellComment {
  notebook: string;
  cell: number;
  output: number | null;
  text: string;
}

export interface IMyReview {
  status: 'draft' | 'submitted';
  scores: Record<string, IScore>;
  comment: string;
  cell_comments: ICellComment[];
  updated_at: string | null;
  submitted_at: string | null;
}

/** `GET courses/<c>/reviews/<a>/submissions/<n>` for a reviewer. */
export interface ISubmissionView {
  submission: { number: number; name: string; notebooks: ICopyNotebook[] };
  rubric: ICriterion[];
  review: IMyReview | null;
  assignment: IAssignment;
  round: IRoundInfo;
}

export interface IFeedbackReview {
  /** An opaque token: the service never sends a review's row id to its author. */
  id: string;
  label: string;
  reviewer?: string;
  scores: Record<string, IScore>;
  comment: string;
  cell_comments: ICellComment[];
  helpfulness: number | null;
  flagged: boolean;
}

/** `GET courses/<c>/reviews/<a>/feedback` for the author, once released. */
export interface IFeedback {
  assignment: string;
  submission: { number: number; name: string; notebooks: ICopyNotebook[] };
  rubric: ICriterion[];
  method: string;
  scores: Record<string, number | null>;
  total?: number | null;
  reviews: IFeedbackReview[];
}

/** What the server extension answers after writing copies. */
export interface ICopiesWritten {
  paths: string[];
  folder: string;
  kernel: string;
  sandbox: 'namespaces' | 'environment';
}

/** `metadata.cohortlab_review` of a copy written by the server extension. */
export interface IReviewMeta {
  kind: 'review' | 'feedback';
  course: string;
  assignment: string;
  submission?: number;
  notebook: string;
}
