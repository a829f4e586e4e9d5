// Types of console/consent-history.js for the tests that import its pure functions.
export interface FieldChange {
  path: string;
  before: string;
  after: string;
  change: 'changed' | 'added' | 'removed';
}
export function flatten(value: unknown, path?: string, out?: Map<string, string>): Map<string, string>;
export function diffVersions(older: unknown, newer: unknown): FieldChange[];
export function dutchMoment(iso: string | undefined): string;
export function renderConsentHistory(container: unknown, bundle: unknown): void;
export function mountConsentHistory(
  root: unknown,
  fetchJson: (path: string) => Promise<unknown>,
): { show(id: string): Promise<void> };
export function consoleGet(path: string): Promise<unknown>;
