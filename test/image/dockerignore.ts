// .dockerignore semantics, as Docker's builder applies them (moby patternmatcher): patterns are cleaned
// paths relative to the context; `*` and `?` never cross `/`, `**` spans any number of folders; a path is
// excluded when the last pattern matching it, or matching one of its parent folders, is not a `!` pattern.
import { readFileSync } from 'node:fs';

interface Pattern {
  source: string;
  regex: RegExp;
  exclusion: boolean;
}

function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/') || '.';
}

function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '\\' && i + 1 < pattern.length) {
      i++;
      re += pattern[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) throw new Error(`.dockerignore: unterminated [ in ${JSON.stringify(pattern)}`);
      re += pattern.slice(i, end + 1).replace(/^\[!/, '[^');
      i = end;
    } else {
      re += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return new RegExp(re + '$');
}

export class DockerIgnore {
  private readonly patterns: Pattern[];

  constructor(text: string) {
    this.patterns = [];
    for (const raw of text.split(/\r?\n/)) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const exclusion = line.startsWith('!');
      if (exclusion) line = line.slice(1).trim();
      const cleaned = cleanPath(line.replace(/^\/+/, ''));
      this.patterns.push({ source: raw, regex: compile(cleaned), exclusion });
    }
  }

  static fromFile(path: string): DockerIgnore {
    return new DockerIgnore(readFileSync(path, 'utf8'));
  }

  /** Whether `relPath` (relative to the build context, `/`-separated) is left out of the context. */
  excludes(relPath: string): boolean {
    const file = cleanPath(relPath);
    const dirs = file.split('/').slice(0, -1);
    let matched = false;
    for (const p of this.patterns) {
      // Like Docker: an inclusion pattern only matters once something matched, an exclusion only before.
      if (p.exclusion !== matched) continue;
      let hit = p.regex.test(file);
      for (let i = 1; !hit && i <= dirs.length; i++) hit = p.regex.test(dirs.slice(0, i).join('/'));
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }
}
