// Configuration of people's sign-in to the console (OpenID Connect) and of their sessions; part of Config.

export interface SignInConfig {
  /** The OpenID provider's issuer URL; empty = no sign-in for people (the sandbox runs its own provider). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The ID-token / userinfo claim that holds a person's roles (a string or an array of strings). */
  roleClaim: string;
  /** The role value in that claim that makes someone a privacy officer. */
  officerRole: string;
  /** Who may sign in as privacy officer (the `sub` or `email` claim); empty = anyone the provider gives the role. */
  allowedOfficers: string[];
  /** The organisation an officer's actions are recorded for. */
  officerOrganization: string;
  /** The claim with a person's BSN (a DigiD broker's attribute). */
  bsnClaim: string;
  /** A session ends after this many minutes without a request, and in any case this many hours after sign-in. */
  idleMinutes: number;
  absoluteHours: number;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`configuration: ${name} must be a whole number of at least 1`);
  return n;
}

export function loadSignInConfig(env: NodeJS.ProcessEnv): SignInConfig {
  const issuer = (env.OIDC_ISSUER ?? '').trim().replace(/\/+$/, '');
  if (issuer) {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw new Error(`configuration: OIDC_ISSUER "${issuer}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error('configuration: OIDC_ISSUER must be an http(s) URL');
    if (!env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET)
      throw new Error('configuration: OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET');
  }
  return {
    issuer,
    clientId: env.OIDC_CLIENT_ID ?? '',
    clientSecret: env.OIDC_CLIENT_SECRET ?? '',
    roleClaim: env.OIDC_ROLE_CLAIM || 'ketenpoort_roles',
    officerRole: env.OIDC_OFFICER_ROLE || 'privacy-officer',
    allowedOfficers: (env.OIDC_ALLOWED_OFFICERS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    bsnClaim: env.OIDC_BSN_CLAIM || 'bsn',
    officerOrganization: env.OIDC_OFFICER_ORGANIZATION || 'Organization/privacy-office',
    idleMinutes: positive('SESSION_IDLE_MINUTES', env.SESSION_IDLE_MINUTES, 30),
    absoluteHours: positive('SESSION_MAX_HOURS', env.SESSION_MAX_HOURS, 8),
  };
}
