// The log never repeats what a database driver attaches to an error about its statement.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { safeError } from './safe-error.js';

describe('errors in the log', () => {
  it('keep kind, message and code, and drop the statement, its parameters and the text around the fault', () => {
    const err = Object.assign(new Error('invalid input syntax for type json'), {
      code: '22P02',
      query: 'INSERT INTO delivery_jobs …',
      params: ['{"subjectBsn":"999910036","title":"Gezinsplan"}'],
      where: 'JSON data, line 1: ..."title":"Gezinsplan"',
      detail: 'Key (unique_key)=(bsn|999910036) already exists.',
    });
    const lines: string[] = [];
    const log = pino(
      { serializers: { err: safeError } },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    log.error({ err }, 'unhandled error');
    const logged = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(logged.err).toMatchObject({ message: 'invalid input syntax for type json', code: '22P02' });
    expect(lines[0]).not.toMatch(/999910036|Gezinsplan|delivery_jobs/);
  });
});
