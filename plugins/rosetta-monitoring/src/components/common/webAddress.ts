/**
 * `url` when it is a web address (http or https), else undefined. Links the cards show come from the sources (a
 * GitLab pipeline's web_url) by way of the API: any other scheme (javascript:, data:) is shown as text, never linked.
 */
export function webAddress(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? url : undefined;
  } catch {
    return undefined; // not an absolute URL
  }
}
