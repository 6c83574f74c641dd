import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ArchiveEntry,
  ArchiveError,
  isArchiveName,
  packArchive,
  unpackArchive,
} from './backup-archive.ts';

const segment = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const name = fc
  .array(segment, { minLength: 1, maxLength: 4 })
  .map((s) => s.join('/'))
  .filter(isArchiveName);
const entries = fc.uniqueArray(
  fc.record({
    name,
    data: fc.uint8Array({ maxLength: 2000 }),
    mode: fc.constantFrom(0o600, 0o644, 0o700),
  }),
  { selector: (e) => e.name, maxLength: 6 },
);

describe('backup archive', () => {
  it('property: what is packed unpacks the same, names, bytes and modes', () => {
    fc.assert(
      fc.property(entries, (files: ArchiveEntry[]) => {
        const back = unpackArchive(packArchive(files));
        expect(back.map((e) => [e.name, Buffer.from(e.data).toString('hex'), e.mode])).toEqual(
          files.map((e) => [e.name, Buffer.from(e.data).toString('hex'), e.mode]),
        );
      }),
    );
  });

  it('property: arbitrary or damaged bytes give an ArchiveError or entries, never another error', () => {
    const damaged = fc
      .tuple(entries, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat())
      .map(([files, at, xor, cut]) => {
        const a = packArchive(files);
        const i = at % a.length;
        a[i] = (a[i] as number) ^ xor;
        return a.subarray(0, a.length - (cut % (a.length + 1)));
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), damaged), (bytes) => {
        try {
          for (const e of unpackArchive(bytes)) expect(isArchiveName(e.name)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(ArchiveError);
          expect((e as Error).message.length).toBeGreaterThan(10);
        }
      }),
    );
  });

  it('refuses names that could leave the restore folder, and the same name twice', () => {
    for (const bad of ['../key.pem', '/etc/passwd', 'audit/../../x', 'a//b', '.', 'a/./b', ''])
      expect(() => packArchive([{ name: bad, data: new Uint8Array(), mode: 0o600 }]), bad).toThrow(
        ArchiveError,
      );
    const twice = { name: 'a', data: new Uint8Array(1), mode: 0o600 };
    expect(() => packArchive([twice, twice])).toThrow(/twice/);
  });

  it('is read by the system tar, and reads what the system tar writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openiomt-archive-'));
    try {
      const files = [
        { name: 'openiomt-backup.json', data: Buffer.from('{"v":1}\n'), mode: 0o600 },
        { name: 'audit/tree-heads.jsonl', data: Buffer.alloc(1500, 0x61), mode: 0o644 },
      ];
      await writeFile(join(dir, 'ours.tar'), packArchive(files));
      execFileSync('tar', ['-xf', 'ours.tar'], { cwd: dir });
      expect(await readFile(join(dir, 'audit/tree-heads.jsonl'))).toEqual(files[1]?.data);
      expect((await stat(join(dir, 'openiomt-backup.json'))).mode & 0o777).toBe(0o600);
      execFileSync(
        'tar',
        ['--format=ustar', '-cf', 'theirs.tar', 'openiomt-backup.json', 'audit/tree-heads.jsonl'],
        {
          cwd: dir,
        },
      );
      const theirs = unpackArchive(await readFile(join(dir, 'theirs.tar')));
      expect(theirs.map((e) => e.name)).toEqual(files.map((f) => f.name));
      expect(Buffer.from(theirs[1]?.data ?? [])).toEqual(files[1]?.data);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a link, and a cut-off archive, saying so', () => {
    const a = packArchive([{ name: 'x', data: Buffer.from('hello'), mode: 0o600 }]);
    expect(() => unpackArchive(a.subarray(0, 600))).toThrow(/cut short/);
    const link = Buffer.from(a);
    link[156] = '2'.charCodeAt(0);
    // Fix the checksum so only the type is wrong.
    link.fill(0x20, 148, 156);
    const sum = link.subarray(0, 512).reduce((s, b) => s + b, 0);
    link.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
    expect(() => unpackArchive(link)).toThrow(/not a regular file/);
  });
});
