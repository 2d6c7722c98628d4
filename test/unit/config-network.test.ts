import { describe, expect, it } from '@jest/globals';
import { defaultConfig } from '../../src/core/config.js';
import { parseConfigText } from '../../src/core/documents.js';

const CONFIG = '.leviathan/config.yaml';

describe('executor.network and executor.network_allow', () => {
  it('default: allowlist with an empty list (as closed as none until a host is named)', () => {
    expect(defaultConfig().executor).toMatchObject({ network: 'allowlist', network_allow: [] });
  });

  it('takes none, open and host names or *.suffix', () => {
    const r = parseConfigText(
      'executor:\n  network: allowlist\n  network_allow: [api.anthropic.com, "*.openai.com"]\n',
      CONFIG,
    );
    expect(r.ok && r.value.executor).toMatchObject({
      network: 'allowlist',
      network_allow: ['api.anthropic.com', '*.openai.com'],
    });
    for (const mode of ['none', 'open']) {
      const m = parseConfigText(`executor:\n  network: ${mode}\n`, CONFIG);
      expect(m.ok && m.value.executor.network).toBe(mode);
    }
  });

  it('refuses other modes and entries that are not host names, at their line and column', () => {
    const bad = parseConfigText('executor:\n  network: vpn\n', CONFIG);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.diagnostics[0]).toMatchObject({ line: 2, column: 12, path: 'executor.network' });
    const url = parseConfigText('executor:\n  network_allow:\n    - https://api.example.com\n', CONFIG);
    expect(url.ok).toBe(false);
    if (!url.ok) {
      expect(url.diagnostics[0]).toMatchObject({ line: 3, path: 'executor.network_allow[0]' });
      expect(url.diagnostics[0]!.message).toMatch(/host name/);
    }
  });
});
