/**
 * Plays the user at the sandbox's authorize page without a browser: loads it, submits its form
 * with the chosen button, and returns where the sandbox redirects (the callback URL with the
 * code or error, or with the token in the fragment for the implicit flow).
 */
export async function decide(authorizeUrl: string, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
  const page = await fetch(authorizeUrl);
  if (page.status !== 200) throw new Error(`authorize page answered ${page.status}`);
  const html = await page.text();
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.set(m[1]!, m[2]!.replace(/&amp;/g, '&'));
  fields.set('decision', decision);
  const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!;
  const answer = await fetch(new URL(action, authorizeUrl), { method: 'POST', body: fields, redirect: 'manual' });
  if (answer.status !== 302) throw new Error(`authorize decision answered ${answer.status}`);
  return new URL(answer.headers.get('location')!);
}
