// Reads the source for the texts of error answers: each literal message handed to an OperationOutcome builder
// (badRequest, forbidden, rule, …) or to a search error that becomes one, with whether it says it in Dutch first, then
// in English ("NL / EN" or "NL (EN)").
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Builders whose first argument is the diagnostics of an error answer. */
const FIRST_ARGUMENT = new Set([
  'badRequest',
  'unauthorized',
  'forbidden',
  'notFound',
  'conflict',
  'preconditionFailed',
  'tooLarge',
  'unavailable',
  'badGateway',
  'rule',
]);
/** Errors whose message a route hands to badRequest unchanged. */
const MESSAGE_ERRORS = new Set(['AuditSearchError', 'DateSearchError']);

/** Words of English that a Dutch sentence does not use (`of` and `is` are Dutch too; `in` and `op` both). */
const ENGLISH = new Set(
  'the a an and or not no must may only with for to be by from needs need takes take your you this that has have does cannot can should are any one it its than lies given'.split(
    ' ',
  ),
);
const DUTCH = new Set(
  'de het een en van voor met niet geen moet mag mogen zijn is wordt worden heeft hebt hebben nodig of bij dit deze die uw u al kan kunnen alleen hier verplicht ongeldig onbekend ligt neemt bevat noemt verwijs stuur maar keer als dat er naar om te op tot aan door waarde zoekparameter toestemming ontvanger verzoek verwacht bijvoorbeeld onbekend onbekende geweigerd hoogstens vraag kent één precies'.split(
    ' ',
  ),
);

export interface Message {
  file: string;
  line: number;
  text: string;
}

/** A message's Dutch part, or undefined when it does not put Dutch first and English after. */
export function dutchPart(text: string): string | undefined {
  const slash = text.indexOf(' / ');
  let nl: string;
  let en: string;
  if (slash > 0) {
    nl = text.slice(0, slash);
    en = text.slice(slash + 3);
  } else {
    // "NL (EN)": the English in the last parentheses, at the end.
    const m = /^(.*\S) \(([^()]*)\)\.?$/.exec(text);
    if (!m) return undefined;
    [, nl, en] = m as unknown as [string, string, string];
  }
  const words = (s: string) =>
    s
      .replace(/"[^"]*"|\{[^}]*\}|<[^>]*>|\$\{[^}]*\}/g, ' ')
      .toLowerCase()
      .match(/[a-zà-ÿ]+/g) ?? [];
  const nlWords = words(nl);
  if (!nlWords.some((w) => DUTCH.has(w)) || nlWords.some((w) => ENGLISH.has(w))) return undefined;
  if (!words(en).some((w) => ENGLISH.has(w) || w.length > 2)) return undefined;
  return nl;
}

/** The text of a literal message, `${…}` written as X; undefined for what is not a literal (a variable, a call). */
function literalTexts(node: ts.Expression): string[] | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) {
    const text = node.head.text + node.templateSpans.map((s) => `X${s.literal.text}`).join('');
    // A message passed on behind a name (`_lastUpdated: ${err.message}`) is checked where it is made.
    if (node.templateSpans.length === 1 && /^[\w.:\s-]*X$/.test(text)) return undefined;
    return [text];
  }
  if (ts.isParenthesizedExpression(node)) return literalTexts(node.expression);
  if (ts.isConditionalExpression(node)) {
    const both = [literalTexts(node.whenTrue), literalTexts(node.whenFalse)];
    return both.every((b) => b === undefined) ? undefined : both.flatMap((b) => b ?? []);
  }
  return undefined;
}

/** Every literal error message in the TypeScript source below `dir` (tests excluded). */
export function errorMessages(dir: string): Message[] {
  const out: Message[] = [];
  const files = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(d, e.name);
      if (e.isDirectory()) return files(full);
      return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
    });
  for (const file of files(dir)) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const add = (node: ts.Expression | undefined) => {
      if (!node) return;
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      for (const text of literalTexts(node) ?? []) out.push({ file: path.relative(dir, file), line, text });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
        const name = node.expression.text;
        if (FIRST_ARGUMENT.has(name)) add(node.arguments[0]);
        if (name === 'outcome') add(node.arguments[1]);
        if (name === 'unprocessable' && node.arguments[0] && ts.isArrayLiteralExpression(node.arguments[0]))
          for (const issue of node.arguments[0].elements)
            if (ts.isObjectLiteralExpression(issue))
              for (const p of issue.properties)
                if (ts.isPropertyAssignment(p) && p.name.getText(source) === 'diagnostics')
                  add(p.initializer);
      }
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
        if (MESSAGE_ERRORS.has(node.expression.text)) add(node.arguments?.[0]);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}
