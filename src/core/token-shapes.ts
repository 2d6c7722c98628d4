/**
 * The shapes of common credentials, whatever their value: one list for the redactor (which replaces them in
 * output) and the threat scan (which fails a diff that holds one). Most specific first: an Anthropic key
 * also looks like an OpenAI one.
 */
export type TokenKind =
  | 'github_token'
  | 'aws_access_key'
  | 'anthropic_key'
  | 'openai_key'
  | 'google_api_key'
  | 'slack_token'
  | 'gitlab_token'
  | 'npm_token';

export const TOKEN_SHAPES: ReadonlyArray<{ kind: TokenKind; re: RegExp }> = [
  { kind: 'github_token', re: /\bgh[opsuar]_[A-Za-z0-9]{20,255}\b/ },
  { kind: 'github_token', re: /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/ },
  { kind: 'aws_access_key', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/ },
  { kind: 'anthropic_key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/ },
  { kind: 'openai_key', re: /\bsk-(?:[A-Za-z0-9_-]{2,20}-)?[A-Za-z0-9_-]{20,}/ },
  { kind: 'google_api_key', re: /\bAIza[0-9A-Za-z_-]{35}/ },
  { kind: 'slack_token', re: /\bxox[abposre]-[A-Za-z0-9-]{10,}/ },
  { kind: 'gitlab_token', re: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { kind: 'npm_token', re: /\bnpm_[A-Za-z0-9]{36}\b/ },
];

/** The first line of a PEM private key (any algorithm, PGP's `PRIVATE KEY BLOCK` too). */
export const PRIVATE_KEY_HEADER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;
