// Requests Node refuses before express sees them (headers too large, a malformed request line): an OperationOutcome too.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Answers an HTTP parse error on the raw socket with a FHIR OperationOutcome instead of Node's bare status line. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : err.code === 'HPE_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : 400;
  const diagnostics =
    status === 431
      ? 'De kopregels of de URL van het verzoek zijn te groot / The request headers or URL are too large'
      : status === 408
        ? 'Het verzoek kwam niet op tijd binnen / The request did not arrive in time'
        : 'Het verzoek is geen geldig HTTP-verzoek / The request is not a valid HTTP request';
  const body = JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: status === 431 ? 'too-long' : 'structure', diagnostics }],
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/fhir+json; charset=utf-8\r\n` +
      `X-Request-Id: ${randomUUID()}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
