// Every test file gets its own anchor directory: no test reads or writes the user's state directory, and no
// two files see each other's anchors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.LEVIATHAN_STATE_DIR = mkdtempSync(join(tmpdir(), 'leviathan-state-'));
