// Security headers on every answer (helmet): a CSP without inline script, no framing, no sniffing, no referrer leaks.
import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * `upgrade-insecure-requests` and HSTS only where the gateway speaks https: the plain-http sandbox on localhost would
 * otherwise be sent to an https port that does not exist. Inline styles remain allowed (the report pages carry their
 * style sheet inline); inline script and script attributes are not.
 */
export function securityHeaders(https: () => boolean): RequestHandler {
  const strict = (upgrade: boolean) =>
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'script-src-attr': ["'none'"],
          'style-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:'],
          'font-src': ["'self'"],
          'connect-src': ["'self'"],
          'object-src': ["'none'"],
          'base-uri': ["'self'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          ...(upgrade ? { 'upgrade-insecure-requests': [] } : {}),
        },
      },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: upgrade ? { maxAge: 31536000, includeSubDomains: true } : false,
      crossOriginResourcePolicy: { policy: 'same-origin' },
    });
  const secure = strict(true);
  const plain = strict(false);
  return (req, res, next) => (https() ? secure : plain)(req, res, next);
}
