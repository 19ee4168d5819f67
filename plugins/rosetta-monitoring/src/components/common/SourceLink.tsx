import { ReactNode } from 'react';
import { Link } from '@backstage/core-components';
import { webAddress } from './webAddress';

/**
 * A record's name as a link to its page in its source (a ServiceNow form, an ArgoCD application, a GitLab pipeline),
 * which the API gives when it knows the source's URL; plain text when it does not, or when what it gives is not a web
 * address.
 */
export function SourceLink({ url, children }: { url: string | null | undefined; children: ReactNode }) {
  const address = webAddress(url);
  return address ? <Link to={address}>{children}</Link> : <>{children}</>;
}
