import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { CohortLabError } from '../errors';
import { ICohortLabClient } from '../tokens';
import {
  IAssignment,
  ICellComment,
  ICopiesWritten,
  IExclusion,
  IFeedback,
  IFlag,
  IJob,
  IMyReview,
  INameCheck,
  INbgraderCourse,
  IOpenRoundRequest,
  IOverride,
  IResults,
  IRound,
  IRoundChange,
  IRoundInfo,
  IScore,
  IStaffRound,
  ISubmissionView
} from './types';

const q = encodeURIComponent;

/** The peer review routes of the service, and the server extension's copy writer. */
export class ReviewAPI {
  constructor(
    readonly client: ICohortLabClient,
    private readonly settings = ServerConnection.makeSettings()
  ) {}

  /** A round's route: `courses/<course>/reviews/<assignment><rest>`. */
  private round(course: string, assignment: string, rest = ''): string {
    return `courses/${q(course)}/reviews/${q(assignment)}${rest}`;
  }

  rounds(course: string): Promise<{ rounds: IRound[] }> {
    return this.client.requestAPI(`courses/${q(course)}/reviews`);
  }

  submission(course: string, assignment: string, n: number): Promise<ISubmissionView> {
    return this.client.requestAPI(this.round(course, assignment, `/submissions/${n}`));
  }

  save(
    course: string,
    assignment: string,
    n: number,
    body: {
      scores: Record<string, IScore>;
      comment: string;
      cell_comments: ICellComment[];
      submit: boolean;
    }
  ): Promise<{ review: IMyReview; assignment: IAssignment }> {
    return this.client.requestAPI(
      this.round(course, assignment, `/submissions/${n}/review`),
      { method: 'PUT', body: JSON.stringify(body) }
    );
  }

  extra(course: string, assignment: string): Promise<{ assignment: IAssignment }> {
    return this.client.requestAPI(this.round(course, assignment, '/extra'), {
      method: 'POST',
      body: '{}'
    });
  }

  feedback(course: string, assignment: string): Promise<IFeedback> {
    return this.client.requestAPI(this.round(course, assignment, '/feedback'));
  }

  helpfulness(course: string, assignment: string, id: string, value: number): Promise<unknown> {
    return this.client.requestAPI(
      this.round(course, assignment, `/feedback/reviews/${q(id)}/helpfulness`),
      { method: 'PUT', body: JSON.stringify({ helpfulness: value }) }
    );
  }

  flag(course: string, assignment: string, id: string, reason: string): Promise<unknown> {
    return this.client.requestAPI(
      this.round(course, assignment, `/feedback/reviews/${q(id)}/flag`),
      { method: 'POST', body: JSON.stringify({ reason }) }
    );
  }

  // --- staff -------------------------------------------------------------------------------

  /** The course's rounds with their progress, as staff see them. */
  staffRounds(course: string): Promise<{ rounds: IStaffRound[] }> {
    return this.client.requestAPI(`courses/${q(course)}/reviews`);
  }

  /** Close or reopen reviewing, release feedback, names, method, due date (instructors). */
  changeRound(
    course: string,
    assignment: string,
    change: IRoundChange
  ): Promise<{ round: IRoundInfo }> {
    return this.client.requestAPI(this.round(course, assignment), {
      method: 'PATCH',
      body: JSON.stringify(change)
    });
  }

  results(course: string, assignment: string): Promise<IResults> {
    return this.client.requestAPI(this.round(course, assignment, '/results'));
  }

  setOverride(
    course: string,
    assignment: string,
    number: number,
    criterion: string,
    body: { score: number; reason: string }
  ): Promise<{ submission: number; criterion: string; override: IOverride }> {
    return this.client.requestAPI(
      this.round(course, assignment, `/overrides/${number}/${q(criterion)}`),
      { method: 'PUT', body: JSON.stringify(body) }
    );
  }

  clearOverride(
    course: string,
    assignment: string,
    number: number,
    criterion: string
  ): Promise<unknown> {
    return this.client.requestAPI(
      this.round(course, assignment, `/overrides/${number}/${q(criterion)}`),
      { method: 'DELETE' }
    );
  }

  exclude(
    course: string,
    assignment: string,
    review: string,
    reason: string
  ): Promise<{ review: string; excluded: IExclusion }> {
    return this.client.requestAPI(
      this.round(course, assignment, `/exclusions/${q(review)}`),
      { method: 'PUT', body: JSON.stringify({ reason }) }
    );
  }

  include(course: string, assignment: string, review: string): Promise<unknown> {
    return this.client.requestAPI(
      this.round(course, assignment, `/exclusions/${q(review)}`),
      { method: 'DELETE' }
    );
  }

  flags(course: string, assignment: string): Promise<{ flags: IFlag[] }> {
    return this.client.requestAPI(this.round(course, assignment, '/flags'));
  }

  resolveFlag(
    course: string,
    assignment: string,
    flag: number,
    body: { resolved: boolean; resolution?: string }
  ): Promise<{ flag: IFlag }> {
    return this.client.requestAPI(this.round(course, assignment, `/flags/${flag}`), {
      method: 'PATCH',
      body: JSON.stringify(body)
    });
  }

  // --- the instructor's own server: their nbgrader course, open and export jobs ------------

  /** The nbgrader course in a folder of my server (its default one without `folder`). */
  nbgraderCourse(folder?: string): Promise<INbgraderCourse> {
    return this.server('course', undefined, 'GET', folder ? `?folder=${q(folder)}` : '');
  }

  /** Start opening (or re-running) a round on my server; the job to follow. */
  openRound(body: IOpenRoundRequest): Promise<{ job: IJob }> {
    return this.server('rounds', body);
  }

  /** The name check before opening: words that are both a learner's name and a common
   * word, in the submissions the run would upload. */
  checkNames(body: {
    course: string;
    assignment: string;
    folder?: string;
    source?: 'submitted' | 'autograded';
  }): Promise<INameCheck> {
    return this.server('names', body);
  }

  /** Start exporting a round's final scores into my nbgrader gradebook. */
  exportRound(body: {
    course: string;
    assignment: string;
    folder?: string;
    overwrite?: boolean;
  }): Promise<{ job: IJob }> {
    return this.server('exports', body);
  }

  jobs(): Promise<{ jobs: IJob[] }> {
    return this.server('jobs', undefined, 'GET');
  }

  job(id: string): Promise<{ job: IJob }> {
    return this.server(`jobs/${q(id)}`, undefined, 'GET');
  }

  /** Have my server write the copy I review (untrusted, review kernel); its paths. */
  writeCopy(course: string, assignment: string, submission: number): Promise<ICopiesWritten> {
    return this.server('copies', { course, assignment, submission });
  }

  /** Have my server write my own submission's copy, as the feedback shows it. */
  writeFeedbackCopy(course: string, assignment: string): Promise<ICopiesWritten> {
    return this.server('feedback-copies', { course, assignment });
  }

  private async server<T>(what: string, body: unknown, method = 'POST', query = ''): Promise<T> {
    const url = URLExt.join(this.settings.baseUrl, 'cohortlab', 'reviews', what) + query;
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        url,
        method === 'GET' ? { method } : { method, body: JSON.stringify(body) },
        this.settings
      );
    } catch (reason) {
      throw CohortLabError.network(reason);
    }
    if (!response.ok) {
      throw await CohortLabError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
