// The gateway's printable Dutch pages (access report, municipal report): escaping and one plain, accessible shell.

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A whole page: `title` is escaped, `body` is HTML the caller built with escapeHtml. */
export function htmlPage(title: string, body: string, css = ''): string {
  return `<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ccc;vertical-align:top}
th{background:#eef2f7}caption{text-align:left;font-weight:600;margin-bottom:.5rem}.muted{color:#555}td.n{text-align:right;font-variant-numeric:tabular-nums}
@media print{body{margin:0}}${css}
</style></head>
<body>
${body}
</body></html>`;
}
