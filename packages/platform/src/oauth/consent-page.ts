/**
 * The consent page: plain server-rendered HTML, no script (the CSP forbids inline script and this page
 * needs none). Every value is escaped. Allow and Deny are two submit buttons of one POST form carrying a
 * CSRF token bound to the interaction and the sign-in.
 */
export interface ConsentView {
  readonly uid: string;
  readonly appName: string;
  readonly personName: string;
  readonly scopes: readonly string[];
  readonly csrf: string;
}

const esc = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export function consentPage(v: ConsentView): string {
  const items = v.scopes.map((s) => `<li>${esc(s)}</li>`).join('\n        ');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Allow ${esc(v.appName)}? – OpenIoMT</title>
  </head>
  <body>
    <main>
      <h1>Allow ${esc(v.appName)} to use your OpenIoMT account?</h1>
      <p>You are signed in as <strong>${esc(v.personName)}</strong>.</p>
      <p>${esc(v.appName)} asks to:</p>
      <ul>
        ${items || '<li>Nothing beyond knowing that you signed in</li>'}
      </ul>
      <p>It gets no more than you may see yourself. You can take this back at any time.</p>
      <form method="post" action="/oauth/interaction/${encodeURIComponent(v.uid)}/confirm">
        <input type="hidden" name="csrf" value="${esc(v.csrf)}">
        <button type="submit" name="decision" value="allow">Allow</button>
        <button type="submit" name="decision" value="deny">Deny</button>
      </form>
    </main>
  </body>
</html>
`;
}

/** A short page for an interaction that cannot go on (expired, or already finished). */
export function problemPage(title: string, detail: string): string {
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>${esc(title)} – OpenIoMT</title></head>
  <body><main><h1>${esc(title)}</h1><p>${esc(detail)}</p></main></body>
</html>
`;
}
