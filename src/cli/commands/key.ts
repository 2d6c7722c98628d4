import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { newSigningKey, sealerFromEnv } from '../../store/log-seal.js';
import { type Output, processOutput } from '../output.js';

/** `leviathan key new`: a fresh Ed25519 key; the secret goes to LEVIATHAN_SIGNING_KEY, the public part to the config. */
export function runKeyNew(out: Output): { secret: string; publicKey: string; keyId: string } {
  const key = newSigningKey();
  if (out.json) {
    out.out(JSON.stringify({ secret: key.secret, public_key: key.publicKey, key_id: key.keyId }));
  } else {
    out.out(`LEVIATHAN_SIGNING_KEY=${key.secret}`);
    out.err('store the line above as the Actions secret LEVIATHAN_SIGNING_KEY (never commit it), and add to');
    out.err('.leviathan/config.yaml:');
    out.out(`events:\n  public_key: "${key.publicKey}"  # key ${key.keyId}`);
  }
  return key;
}

/** `leviathan key id`: the public key and key id of LEVIATHAN_SIGNING_KEY. */
export function runKeyId(
  out: Output,
  env: NodeJS.ProcessEnv = process.env,
): { publicKey: string; keyId: string } {
  const sealer = sealerFromEnv(env);
  if (!sealer) throw new UserError('LEVIATHAN_SIGNING_KEY is not set; make a key with `leviathan key new`');
  if (out.json) out.out(JSON.stringify({ public_key: sealer.publicKey, key_id: sealer.keyId }));
  else out.out(`${sealer.publicKey} (key ${sealer.keyId})`);
  return { publicKey: sealer.publicKey, keyId: sealer.keyId };
}

export function registerKey(program: Command): void {
  const key = program.command('key').description('the signing key that seals the event log');
  key
    .command('new')
    .description('make a signing key: prints the secret and the config line')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      runKeyNew(processOutput(Boolean(opts.json)));
    });
  key
    .command('id')
    .description("print LEVIATHAN_SIGNING_KEY's public key and key id")
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      runKeyId(processOutput(Boolean(opts.json)));
    });
}
