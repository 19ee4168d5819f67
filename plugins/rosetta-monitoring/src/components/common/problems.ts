import { isOrgLevel } from '../../entityId';
import { waitsForTheNextBuild } from '../../api/MonitoringClient';

/** What an API error means for a widget: a missing mapping or source is an empty state, not a failure. */
export type Missing =
  | { kind: 'mapping'; detail: string }
  | { kind: 'pivot'; title: string; detail: string }
  | { kind: 'source'; detail: string }
  /** Nothing built yet: the API looks for a first build again in `retryAfterS` (Retry-After), when it says so. */
  | { kind: 'notBuilt'; detail: string; retryAfterS: number | undefined }
  /** Served, but by a mart an earlier release built: the next build answers, in `retryAfterS` at the earliest. */
  | { kind: 'nextBuild'; detail: string; retryAfterS: number | undefined }
  /** Any other 503 with Retry-After (the mart copy loading, a build landing, the lake store failing): asked again. */
  | { kind: 'unavailable'; detail: string; retryAfterS: number }
  | { kind: 'id'; detail: string }
  | { kind: 'environment'; detail: string };


/** The path parameters the API takes an entity's id as (docs/openapi.json). */
const ENTITY_ID_PARAMETERS = ['app_id', 'component_id'];

interface ProblemDetail {
  title?: string;
  detail?: string;
  /** The parameters a 422 refused, with the values it takes where it lists them. */
  errors?: { parameter?: string; allowed?: unknown[] }[];
}

function statusOf(error: any): number | undefined {
  return error?.statusCode ?? error?.response?.status;
}

/**
 * The API's application/problem+json body. ResponseError parses only application/json bodies, and keeps any
 * other as text after "Request failed with status …, " in its message.
 */
function problemOf(error: any): ProblemDetail | undefined {
  const type = error?.response?.headers?.get?.('content-type') ?? '';
  const message = error?.body?.error?.message;
  if (!type.startsWith('application/problem+json') || typeof message !== 'string' || !message.includes('{')) {
    return undefined;
  }
  try {
    const problem = JSON.parse(message.slice(message.indexOf('{')));
    return problem && typeof problem === 'object' ? problem : undefined;
  } catch {
    return undefined;
  }
}

/** The title of the API's 404 for a path none of its endpoints is at (functions/api/problems.py). */
const API_NO_ENDPOINT = 'Not found';

/** Where the credential the API refused comes from, as the plugin's README configures it. */
const PROXY_CREDENTIAL =
  "the API key or token is the one Backstage's proxy entry for the monitoring API sends in its headers " +
  '(X-API-Key, or Authorization: Bearer): set or correct it there';

/** What the API said went wrong: the problem's detail (or title), else the error's message without its prefix. */
export function detailOf(error: any): string {
  const problem = problemOf(error);
  const status = statusOf(error);
  // The API's 404 for a path it has no endpoint at is titled "Not found" (its own 404s are "Unknown …" or name what
  // is missing): the proxy entry's target is the API's host with a wrong base path.
  if (status === 404 && problem?.title === API_NO_ENDPOINT) {
    return (
      `the monitoring API has no endpoint at this path (${answeredOf(error)}: ${problem.detail ?? problem.title}): ` +
      "check that the target of Backstage's proxy entry is the API's base URL, its base path included"
    );
  }
  if (problem?.detail || problem?.title) {
    const said = String(problem.detail ?? problem.title);
    // The API's own 401 ("unknown API key") speaks of a credential the user never sent: the proxy entry adds it.
    return status === 401 ? `${said}: ${PROXY_CREDENTIAL}` : said;
  }
  const type = String(error?.response?.headers?.get?.('content-type') ?? '').split(';')[0].trim();
  if (status === 401 || status === 403) {
    return refusalOf(error, status, type);
  }
  // The API answers its 404s as problems: any other came from Backstage's proxy (no entry at that path) or from a
  // target that is not the API's base URL.
  if (status === 404) {
    return (
      `nothing answered this path as the monitoring API does (${answeredOf(error)}: ${messageOf(error)}): check ` +
      "that Backstage's proxy has the entry the plugin uses and that its target is the API's base URL"
    );
  }
  // The API answers JSON only: a web page (a load balancer's 502, a gateway's 504) came from something in front of
  // it, and its markup says nothing to a reader.
  if (/^text\/html$/i.test(type)) {
    return (
      `a web page answered (${answeredOf(error)}, ${type}), not the monitoring API: something in front of it ` +
      'failed, a gateway or a load balancer (is the API up?)'
    );
  }
  return messageOf(error);
}

/** The error's own words: its body's message, without ResponseError's "Request failed with status …" prefix. */
function messageOf(error: any): string {
  const body = error?.body;
  const fromBody = body?.error?.message ?? body?.detail;
  const said = String(fromBody ?? error?.message ?? '').replace(/^Request failed with status \d+[^,]*, /, '');
  return gatewayMessageOf(said) ?? said;
}

/** The status line answered, e.g. "401 Unauthorized". */
function answeredOf(error: any): string {
  return `${statusOf(error) ?? ''} ${error?.response?.statusText ?? ''}`.trim();
}

/**
 * What a 401 or 403 that is not the API's problem means. Backstage's backend answers its own errors as
 * {error, request, response}: the user's sign-in, or a permission. A web page is a sign-in page in front of Backstage
 * or the API. Anything else came from in front of the API (its gateway's {"message": "Unauthorized"}): it refused
 * the credential the proxy entry adds, which the user can do nothing about.
 */
function refusalOf(error: any, status: number, type: string): string {
  const answered = answeredOf(error);
  const backstage = error?.body?.request ? error?.body?.error?.message : undefined;
  if (backstage) {
    return status === 401
      ? `Backstage refused the request as not signed in (${answered}: ${backstage}): sign in again`
      : `Backstage does not let you use its proxy entry for the monitoring API (${answered}: ${backstage})`;
  }
  if (/^text\/html$/i.test(type)) {
    return (
      `a sign-in or access page answered (${answered}, ${type}), not the monitoring API: sign in again, or ask ` +
      'for access'
    );
  }
  return (
    `the monitoring API's gateway refused the credential Backstage's proxy entry sends (${answered}: ` +
    `${messageOf(error)}): the key or token in the proxy entry's headers is wrong or has expired`
  );
}

/** The message of an error the API's gateway answers itself, as application/json {"message": "..."}. */
function gatewayMessageOf(text: string): string | undefined {
  if (!text.startsWith('{')) {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text);
    return typeof parsed?.message === 'string' && parsed.message ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The environment the API scores risk and health in, when it refused a ranking asked for in another: a 422 on the
 * environment that lists the one it takes (the estate's production, whatever its name).
 */
export function scoredOnlyIn(error: Error): string | undefined {
  if (statusOf(error) !== 422) return undefined;
  const allowed = problemOf(error)?.errors?.find(e => e?.parameter === 'environment')?.allowed;
  return Array.isArray(allowed) && typeof allowed[0] === 'string' ? allowed[0] : undefined;
}

/** The seconds the answer asked to wait before asking again (Retry-After, in seconds as the API gives it). */
function retryAfterOf(error: any): number | undefined {
  const said = String(error?.response?.headers?.get?.('retry-after') ?? '').trim();
  return /^\d+$/.test(said) ? Number(said) : undefined;
}

export function missingFrom(error: Error): Missing | undefined {
  const status = statusOf(error);
  const detail = detailOf(error);
  const title = problemOf(error)?.title;
  const said = `${title ?? ''} ${detail}`;
  // The entity is mapped, but its entry lacks what this widget needs ("'x' has no elisa.index in the mapping").
  if (status === 404 && /has no \S+ in the mapping/i.test(detail)) {
    return { kind: 'pivot', title: title ?? 'Not in the mapping', detail };
  }
  // An environment no entry is mapped in (a typo: prod for production) is the environment annotation's, not the mapping's.
  if (status === 404 && title === 'Unknown environment') {
    return { kind: 'environment', detail };
  }
  if (status === 404 && /mapping|mapped|unknown/i.test(said)) {
    return { kind: 'mapping', detail };
  }
  // A catalog name is always an id the API takes: an id it refuses comes from an annotation. The refusal names the
  // path parameter, whether the id is malformed or too long.
  if (status === 422 && problemOf(error)?.errors?.some(e => ENTITY_ID_PARAMETERS.includes(e?.parameter ?? ''))) {
    return { kind: 'id', detail };
  }
  // Only the Group card sends a team, group or domain: the Group's name (always an id the API takes) or its level's
  // id annotation (rosetta.io/team-id, rosetta.io/group-id, rosetta.io/domain-id).
  if (status === 422 && problemOf(error)?.errors?.some(e => isOrgLevel(e?.parameter ?? ''))) {
    return { kind: 'id', detail };
  }
  // The environment sent is the one the rosetta.io/environment annotation names (an entity's or a Group's).
  if (status === 422 && problemOf(error)?.errors?.some(e => e?.parameter === 'environment')) {
    return { kind: 'environment', detail };
  }
  // A new deployment before its first aggregate build: nothing has failed, the figures are to come.
  if (status === 503 && title === 'No data yet') {
    return { kind: 'notBuilt', detail, retryAfterS: retryAfterOf(error) };
  }
  if (status === 503 && waitsForTheNextBuild(problemOf(error))) {
    return { kind: 'nextBuild', detail, retryAfterS: retryAfterOf(error) };
  }
  if (status === 503 && /not configured/i.test(said)) {
    return { kind: 'source', detail };
  }
  // The API says when to ask again: a wait, not a failure, however long (the client asks again itself only briefly).
  const wait = retryAfterOf(error);
  if (status === 503 && wait !== undefined) {
    return { kind: 'unavailable', detail, retryAfterS: wait };
  }
  return undefined;
}
