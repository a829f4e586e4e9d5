// axe-core in a page (through the DevTools protocol, which the page's CSP does not govern): WCAG 2 A and AA
// violations by rule and number of elements; an empty list is an accessible page.
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';

let source: string | undefined;

export async function axeViolations(page: Page): Promise<string[]> {
  source ??= await readFile('node_modules/axe-core/axe.min.js', 'utf8');
  await page.evaluate(source);
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: (o: unknown) => Promise<{ violations: { id: string; nodes: unknown[] }[] }> };
      }
    ).axe;
    const result = await axe.run({ runOnly: ['wcag2a', 'wcag2aa'] });
    return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
  });
}
