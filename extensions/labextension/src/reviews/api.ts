import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { CohortLabError } from '../errors';
import { ICohortLabClient } from '../tokens';
import {
  IAssignment,
  ICellComment,
  ICopiesWritten,
  IFeedback,
  IMyReview,
  IRound,
  IScore,
  ISubmissionView
} from './types';

const q = encodeURIComponent;

/** The peer review routes of the service, and the server extension's copy writer. */
export class ReviewAPI {
  constructor(
    readonly client: ICohortLabClient,
    private readonly settings = ServerConnection.makeSettings()
  ) {}

  rounds(course: string): Promise<{ rounds: IRound[] }> {
    return this.client.requestAPI(`courses/${q(course)}/reviews`);
  }

  submission(course: string, assignment: string, n: number): Promise<ISubmissionView> {
    return this.client.requestAPI(`courses/${q(course)}/reviews/${q(assignment)}/submissions/${n}`);
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
      `courses/${q(course)}/reviews/${q(assignment)}/submissions/${n}/review`,
      { method: 'PUT', body: JSON.stringify(body) }
    );
  }

  extra(course: string, assignment: string): Promise<{ assignment: IAssignment }> {
    return this.client.requestAPI(`courses/${q(course)}/reviews/${q(assignment)}/extra`, {
      method: 'POST',
      body: '{}'
    });
  }

  feedback(course: string, assignment: string): Promise<IFeedback> {
    return this.client.requestAPI(`courses/${q(course)}/reviews/${q(assignment)}/feedback`);
  }

  helpfulness(course: string, assignment: string, id: string, value: number): Promise<unknown> {
    return this.client.requestAPI(
      `courses/${q(course)}/reviews/${q(assignment)}/feedback/reviews/${q(id)}/helpfulness`,
      { method: 'PUT', body: JSON.stringify({ helpfulness: value }) }
    );
  }

  flag(course: string, assignment: string, id: string, reason: string): Promise<unknown> {
    return this.client.requestAPI(
      `courses/${q(course)}/reviews/${q(assignment)}/feedback/reviews/${q(id)}/flag`,
      { method: 'POST', body: JSON.stringify({ reason }) }
    );
  }

  /** Have my server write the copy I review (untrusted, review kernel); its paths. */
  writeCopy(course: string, assignment: string, submission: number): Promise<ICopiesWritten> {
    return this.server('copies', { course, assignment, submission });
  }

  /** Have my server write my own submission's copy, as the feedback shows it. */
  writeFeedbackCopy(course: string, assignment: string): Promise<ICopiesWritten> {
    return this.server('feedback-copies', { course, assignment });
  }

  private async server<T>(what: string, body: unknown): Promise<T> {
    const url = URLExt.join(this.settings.baseUrl, 'cohortlab', 'reviews', what);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        url,
        { method: 'POST', body: JSON.stringify(body) },
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
