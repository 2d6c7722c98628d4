/**
 * Secrets out of every string that leaves the process: each known token (and its Basic-auth form, which is
 * how git sends it) becomes `***`.
 */
export function redactor(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const forms = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= 4)
    .flatMap((s) => [s, Buffer.from(`x-access-token:${s}`).toString('base64')])
    .sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  return (text) => forms.reduce((t, s) => t.split(s).join('***'), text);
}
