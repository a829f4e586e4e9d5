// The sandbox's own OpenID provider (node-oidc-provider) with test accounts, so the console's sign-in runs for real.
import { generateKeyPair, exportJWK } from 'jose';
import express, { type Express, type Request, type Response } from 'express';
import Provider, { type Configuration } from 'oidc-provider';
import { SANDBOX_CONSOLE_CLIENT, SANDBOX_ISSUER_PATH } from '../http/console/sign-in.js';
import { escapeHtml } from '../html.js';

export interface SandboxAccount {
  login: string;
  password: string;
  name: string;
  email?: string;
  roles?: string[];
  bsn?: string;
}

/**
 * Test accounts (password `sandbox`): a privacy officer; Emma (14) and her mother Sanne, who holds gezag of Emma and
 * Noah, from fixtures/families/jansen-de-vries.json; Lotte, a 16-year-old with a synthetic BSN whom a test registers as
 * Sanne's daughter.
 */
export const SANDBOX_ACCOUNTS: SandboxAccount[] = [
  {
    login: 'functionaris',
    password: 'sandbox',
    name: 'Fatima Bakker',
    email: 'f.bakker@privacy-office.example',
    roles: ['privacy-officer'],
  },
  { login: 'emma', password: 'sandbox', name: 'Emma Jansen', bsn: '999910048' },
  { login: 'sanne', password: 'sandbox', name: 'Sanne de Vries', bsn: '999910012' },
  { login: 'lotte', password: 'sandbox', name: 'Lotte Jansen', bsn: '999910061' },
];

const accountOf = (login: string) => SANDBOX_ACCOUNTS.find((a) => a.login === login);

async function createProvider(baseUrl: string): Promise<Provider> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const configuration: Configuration = {
    clients: [
      {
        client_id: SANDBOX_CONSOLE_CLIENT.id,
        client_secret: SANDBOX_CONSOLE_CLIENT.secret,
        redirect_uris: [`${baseUrl}/console/callback`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'sandbox-oidc' }] },
    pkce: { required: () => true, methods: ['S256'] },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email'],
      ketenpoort: ['bsn', 'ketenpoort_roles'],
    },
    // The console reads the claims from the ID token; no userinfo round trip.
    conformIdTokenClaims: false,
    scopes: ['openid', 'profile', 'email', 'ketenpoort'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/sandbox/oidc-login/${interaction.uid}` },
    cookies: { keys: ['ketenpoort-sandbox-oidc-cookies'] },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    findAccount: (_ctx, id) => {
      const account = accountOf(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          name: account.name,
          email: account.email,
          bsn: account.bsn,
          ketenpoort_roles: account.roles,
        }),
      };
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Fout bij aanmelden</title></head><body><h1>Fout bij aanmelden / Sign-in error</h1><p>${escapeHtml(String(out.error_description ?? out.error))}</p></body></html>`;
    },
  };
  const provider = new Provider(`${baseUrl}${SANDBOX_ISSUER_PATH}`, configuration);
  provider.proxy = false;
  return provider;
}

function loginPage(res: Response, uid: string, problem?: string): void {
  const error = problem ? `<p role="alert" class="error">${escapeHtml(problem)}</p>` : '';
  res
    .status(problem ? 401 : 200)
    .type('html')
    .set('Cache-Control', 'no-store').send(`<!doctype html><html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aanmelden bij de sandbox-inlogdienst</title><link rel="stylesheet" href="/console/style.css"></head>
<body><main><h1>Aanmelden (sandbox-inlogdienst)</h1>
<p>Testaccounts: functionaris, emma, sanne, lotte — wachtwoord <code>sandbox</code>. In productie: de inlogdienst van uw organisatie of DigiD.</p>
${error}<form method="post" action="/sandbox/oidc-login/${escapeHtml(uid)}">
<label for="login">Gebruikersnaam / User name</label><input id="login" name="login" autocomplete="username" required>
<label for="password">Wachtwoord / Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Aanmelden / Sign in</button></form></main></body></html>`);
}

/** Mounts the provider at /sandbox/oidc and its Dutch login page at /sandbox/oidc-login/:uid. */
export function mountSandboxProvider(app: Express, baseUrl: () => string): void {
  let provider: Promise<Provider> | undefined;
  const get = () => (provider ??= createProvider(baseUrl()));
  app.use(SANDBOX_ISSUER_PATH, async (req: Request, res: Response) => {
    (await get()).callback()(req, res);
  });
  /** The sign-in this login page belongs to; undefined (answered 400) when it expired or is another one. */
  const interactionOf = async (p: Provider, req: Request, res: Response) => {
    const details = await p.interactionDetails(req, res).catch(() => undefined);
    if (details && details.uid === req.params.uid) return details;
    res.status(400).type('text').send('Deze aanmelding is verlopen; begin opnieuw. / This sign-in expired.');
    return undefined;
  };
  app.get('/sandbox/oidc-login/:uid', async (req, res) => {
    const details = await interactionOf(await get(), req, res);
    if (details) loginPage(res, details.uid);
  });
  app.post(
    '/sandbox/oidc-login/:uid',
    express.urlencoded({ extended: false, limit: '8kb' }),
    async (req, res) => {
      const p = await get();
      const details = await interactionOf(p, req, res);
      if (!details) return;
      const { login, password } = (req.body ?? {}) as Record<string, unknown>;
      const account = typeof login === 'string' ? accountOf(login) : undefined;
      if (!account || password !== account.password) {
        loginPage(
          res,
          details.uid,
          'Onbekende gebruikersnaam of verkeerd wachtwoord. / Unknown user or wrong password.',
        );
        return;
      }
      // A first-party client: the grant is given with the sign-in, no separate consent screen.
      const grant = new p.Grant({ accountId: account.login, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope ?? 'openid'));
      await p.interactionFinished(
        req,
        res,
        { login: { accountId: account.login }, consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: false },
      );
    },
  );
}
