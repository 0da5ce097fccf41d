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

// --- the staff's side ---------------------------------------------------------------------

/** A staff entry of `GET courses/<c>/reviews` (`manage.staff_summary`): settings and progress. */
export interface IStaffRound extends IRoundInfo {
  across_cohorts: boolean;
  separate_teams: boolean;
  method: AggregationMethod;
  submissions: number;
  /** Active reviewer assignments (reviews handed out). */
  assignments: number;
  reviews_submitted: number;
  /** Flags of this round's reviews that no staff member has resolved yet. */
  open_flags: number;
}

export type AggregationMethod = 'median' | 'mean' | 'pg1';

/** `PATCH courses/<c>/reviews/<a>`: any of these. */
export interface IRoundChange {
  due_at?: string | null;
  lease_hours?: number | null;
  names_visible?: boolean;
  released?: boolean;
  state?: 'open' | 'closed';
  method?: AggregationMethod;
}

export interface IOverride {
  score: number;
  reason: string;
  by: string | null;
  at: string | null;
}

export interface IExclusion {
  reason: string;
  by: string | null;
  at: string | null;
}

/** One reviewer's score of one criterion of one submission, in the staff's results. */
export interface IPeerScore {
  review: string;
  reviewer: string;
  score: number | null;
  comment: string;
  excluded: boolean;
}

export interface ICriterionResult {
  peer: IPeerScore[];
  aggregate: number | null;
  /** Highest minus lowest counted peer score, in points. */
  spread: number | null;
  autograde: number | null;
  override: IOverride | null;
  final: number | null;
}

export interface IStaffReview {
  id: string;
  reviewer: string;
  comment: string;
  cell_comments: number;
  submitted_at: string | null;
  excluded: IExclusion | null;
  helpfulness: number | null;
  open_flags: number;
}

export interface ITotal {
  score: number | null;
  max: number;
  complete: boolean;
}

export interface IResultSubmission {
  number: number;
  name: string;
  author: string;
  reviews: IStaffReview[];
  reviews_counted: number;
  criteria: Record<string, ICriterionResult>;
  autograde: { total: number | null; max: number | null } | null;
  total: ITotal;
}

export interface IReviewerResult {
  user: string;
  reviews_assigned: number;
  reviews_done: number;
  reviews_excluded: number;
  /** 0..1: 1 minus the mean distance from the other reviewers' median, per point. */
  agreement: number | null;
  bias: number | null;
  precision: number | null;
  open_flags: number;
  helpfulness: number | null;
  ratings: number;
}

/** `GET courses/<c>/reviews/<a>/results` (staff). */
export interface IResults {
  round: IRoundInfo & { method: AggregationMethod };
  method: AggregationMethod;
  rubric: ICriterion[];
  submissions: IResultSubmission[];
  reviewers: IReviewerResult[];
  open_flags: number;
}

/** An entry of `GET courses/<c>/reviews/<a>/flags` (staff). */
export interface IFlag {
  id: number;
  submission: number;
  review: string;
  /** The author of the submission, who flagged the review. */
  author: string;
  reviewer: string;
  reason: string;
  created_at: string | null;
  resolved: boolean;
  resolved_by: string | null;
  resolved_at: string | null;
  resolution: string;
  excluded: boolean;
}

// --- the instructor's own server: nbgrader course, open and export jobs -------------------

export interface ICourseAssignment {
  name: string;
  submitted: number;
  autograded: number;
}

/** `GET <server>/cohortlab/reviews/course?folder=<rel>` */
export interface INbgraderCourse {
  folder: string;
  course_id: string;
  assignments: ICourseAssignment[];
}

/** `POST <server>/cohortlab/reviews/rounds` */
export interface IOpenRoundRequest {
  course: string;
  assignment: string;
  folder?: string;
  per_submission?: number;
  due_at?: string;
  lease_hours?: number;
  across_cohorts?: boolean;
  separate_teams?: boolean;
  uneven_loads?: boolean;
  source?: 'submitted' | 'autograded';
  /** Staff's decision on each word that is both a learner's name and a common word. */
  words?: Record<string, NameDecision>;
}

export type NameDecision = 'replace' | 'keep';

/** One word that is a learner's name and a common word, in one notebook of theirs. */
export interface INameFinding {
  word: string;
  student: string;
  notebook: string;
  count: number;
  excerpts: string[];
  forms: string[];
}

/** `POST <server>/cohortlab/reviews/names`: the submissions this run would upload, and
 * what staff decide in them. */
export interface INameCheck {
  checked: string[];
  findings: INameFinding[];
}

export interface IJob {
  id: string;
  kind: 'open' | 'export';
  course: string;
  assignment: string;
  state: 'running' | 'done' | 'failed';
  phase: string;
  done: number;
  total: number;
  lines: string[];
  error: { code: string; message: string } | null;
  result: Record<string, unknown> | null;
  started_at: string | null;
  finished_at: string | null;
}
