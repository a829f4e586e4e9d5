// What an error may put in the log: its kind, message, code and stack, never what a database driver attaches about the
// statement (its parameters, the text around the fault, the key that collided). Those can hold care data or a BSN, and
// the gateway keeps no care data at rest, in a log neither.
import { stdSerializers } from 'pino';

/** Fields database drivers (pg, PGlite) attach to an error that can repeat the data of the statement. */
const UNSAFE = ['params', 'parameters', 'query', 'where', 'detail', 'hint', 'internalQuery', 'cause'];

/** pino's error serializer without the fields that can hold data. */
export function safeError(err: Error): Record<string, unknown> {
  const out = stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const key of UNSAFE) delete out[key];
  return out;
}
