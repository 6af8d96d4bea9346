// The .dockerignore matcher used by the layout test follows Docker's documented rules.
import { describe, expect, it } from 'vitest';
import { DockerIgnore } from './dockerignore.ts';

const excluded = (patterns: string, paths: string[]) => {
  const ignore = new DockerIgnore(patterns);
  return paths.filter((p) => ignore.excludes(p));
};

describe('DockerIgnore', () => {
  it('matches * and ? within one path segment, and ** across segments', () => {
    expect(excluded('*/temp*', ['a/temp', 'a/temporary.txt', 'temp', 'a/b/temp'])).toEqual(['a/temp', 'a/temporary.txt']);
    expect(excluded('temp?', ['tempa', 'tempab', 'temp'])).toEqual(['tempa']);
    expect(excluded('**/*.go', ['main.go', 'a/b/c.go', 'a/b/c.gox'])).toEqual(['main.go', 'a/b/c.go']);
  });

  it('excludes everything under an excluded folder, and ignores a leading slash', () => {
    expect(excluded('/dist', ['dist', 'dist/x/y.js', 'src/dist.ts'])).toEqual(['dist', 'dist/x/y.js']);
  });

  it('lets a later ! pattern bring back a path, and a later pattern exclude it again', () => {
    const text = '*\n!README*.md\nREADME-secret.md\n';
    expect(excluded(text, ['README.md', 'README-secret.md', 'notes.md', 'src/a.ts'])).toEqual([
      'README-secret.md',
      'notes.md',
      'src/a.ts',
    ]);
    expect(excluded('*\n!src/\nsrc/**/*.test.ts\n', ['src/a.ts', 'src/b/c.test.ts', 'x.ts'])).toEqual(['src/b/c.test.ts', 'x.ts']);
  });

  it('skips comments and blank lines', () => {
    expect(excluded('# dist\n\n  \n', ['dist', '# dist'])).toEqual([]);
  });
});
