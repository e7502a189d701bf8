import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const repo = new URL('../../../../', import.meta.url);
const read = (path: string): unknown => JSON.parse(readFileSync(new URL(path, repo), 'utf8'));

const rootPackage = read('package.json') as { engines: { node: string } };
const lock = read('package-lock.json') as { packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }> };

describe('the Node version the README states', () => {
  const oldest = semver.minVersion(rootPackage.engines.node)!.version;

  it('is the engines range of package.json, and the README says it', () => {
    expect(oldest).toBe('20.19.0');
    expect(readFileSync(new URL('README.md', repo), 'utf8')).toContain('Node 20.19 or later');
  });

  it('satisfies every installed package, so npm install prints no EBADENGINE warning', () => {
    const refused = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
      .filter(([, entry]) => {
        const range = (entry.engines as { node: string }).node;
        return !semver.satisfies(oldest, range) || !semver.satisfies(process.version, range);
      })
      .map(([path, entry]) => `${path} wants node ${(entry.engines as { node: string }).node}`);
    expect(refused).toEqual([]);
  });
});
