/** What an API error means for a widget: a missing mapping or source is an empty state, not a failure. */
export type Missing =
  | { kind: 'mapping'; detail: string }
  | { kind: 'source'; detail: string };

function statusOf(error: any): number | undefined {
  return error?.statusCode ?? error?.response?.status;
}

function detailOf(error: any): string {
  const body = error?.body;
  const fromBody = body?.error?.message ?? body?.detail;
  return String(fromBody ?? error?.message ?? '');
}

export function missingFrom(error: Error): Missing | undefined {
  const status = statusOf(error);
  const detail = detailOf(error);
  if (status === 404 && /mapping|unknown/i.test(detail)) {
    return { kind: 'mapping', detail };
  }
  if (status === 503 && /not configured/i.test(detail)) {
    return { kind: 'source', detail };
  }
  return undefined;
}
