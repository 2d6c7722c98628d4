import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a sandbox repository and run the whole loop offline')
    .option('--keep <dir>', 'keep the sandbox in DIR')
    .option('--json', 'machine-readable output')
    .action(() => {
      throw new UserError('the offline demo is not built yet (it arrives with the autonomy loop)');
    });
}
