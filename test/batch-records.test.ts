/**
 * Batch input readers (adapters/records) on real temp files and a real Readable for stdin:
 * each format, encodings and line endings, record numbering across problems, size limits,
 * sniffing, progress, the streamed hash, and flat memory on a large file.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { hashRecordFile, MAX_RECORD_BYTES, openRecordSource } from '../src/adapters/records/index.js';
import type { RecordItem, RecordSource } from '../src/core/batch.js';
import { AppError } from '../src/core/errors.js';
import { contentHash } from '../src/core/hash.js';
import { makeWorkspace, type TempWorkspace } from './helpers/workspace.js';

const temps: TempWorkspace[] = [];
afterEach(() => {
  for (const temp of temps.splice(0)) temp.cleanup();
});

/** A temp folder holding `files`; returns its root. */
function folder(files: Record<string, string | Uint8Array>): string {
  const temp = makeWorkspace(files);
  temps.push(temp);
  return temp.root;
}

async function collect(source: RecordSource): Promise<RecordItem[]> {
  const items: RecordItem[] = [];
  for await (const item of source.records) items.push(item);
  return items;
}

/** Items as compact tuples: ['r', index, line, values] or ['p', index, line, col, message]. */
function brief(items: RecordItem[]): unknown[] {
  return items.map((item) =>
    item.kind === 'record'
      ? ['r', item.record.index, item.record.line, item.record.values]
      : ['p', item.index, item.problem.line, item.problem.col, item.problem.message],
  );
}

async function read(name: string, content: string | Uint8Array, options: Parameters<typeof openRecordSource>[1] = {}) {
  const cwd = folder({ [name]: content });
  const source = await openRecordSource(name, { cwd, ...options });
  return { source, items: await collect(source) };
}

function stdinOf(...chunks: (string | Uint8Array)[]): Readable {
  return Readable.from(chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk))));
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('JSONL', () => {
  it('reads one object per line; blank lines take no number; CRLF and a BOM are fine', async () => {
    const text = '\ufeff{"text":"a","n":1}\r\n\r\n  \n{"text":"b 😀 中文"}\r\n\n{"nested":{"k":[1,2]}}';
    const { source, items } = await read('in.jsonl', text);
    expect(source.format).toBe('jsonl');
    expect(source.path).toBe('in.jsonl');
    expect(brief(items)).toEqual([
      ['r', 1, 1, { text: 'a', n: 1 }],
      ['r', 2, 4, { text: 'b 😀 中文' }],
      ['r', 3, 6, { nested: { k: [1, 2] } }],
    ]);
    expect(items.every((item) => item.kind === 'record' && item.record.text === false)).toBe(true);
    expect(source.position()).toEqual({ bytesRead: Buffer.byteLength(text), totalBytes: Buffer.byteLength(text) });
  });

  it('a bad line is a problem with its line and the JSON error column; reading goes on and numbering counts it', async () => {
    const lines = [
      '{"a": 1}',
      '{"a": x}', // no position in V8's message: found by prefix search
      '',
      '{"a": 1,}', // "at position 8"
      '[1, 2]',
      '"text"',
      '42',
      'null',
      '{"a": 1} {"b": 2}',
      '{"k": "é中😀", "v": @}',
      '{"a": 2}',
    ];
    const { items } = await read('bad.jsonl', lines.join('\n'));
    expect(brief(items)).toEqual([
      ['r', 1, 1, { a: 1 }],
      ['p', 2, 2, 7, "not valid JSON: unexpected token 'x'"],
      ['p', 3, 4, 9, 'not valid JSON: expected double-quoted property name'],
      ['p', 4, 5, 1, 'a record must be a JSON object ({"name": value, ...}), not an array'],
      ['p', 5, 6, 1, 'a record must be a JSON object ({"name": value, ...}), not a string'],
      ['p', 6, 7, 1, 'a record must be a JSON object ({"name": value, ...}), not a number'],
      ['p', 7, 8, 1, 'a record must be a JSON object ({"name": value, ...}), not null'],
      ['p', 8, 9, 10, 'not valid JSON: unexpected non-whitespace character after JSON'],
      // Columns count UTF-16 units, as editors and the YAML positions do: the emoji takes two.
      ['p', 9, 10, 20, "not valid JSON: unexpected token '@'"],
      ['r', 10, 11, { a: 2 }],
    ]);
    const problem = items[1]!;
    expect(problem.kind === 'problem' && problem.problem).toMatchObject({ file: 'bad.jsonl', code: 'RECORD' });
  });

  it('invalid UTF-8 is a problem for its line, located at the bad byte', async () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"ok"}\n{"a":"é'), Buffer.from([0xff]), Buffer.from('"}\n{"a":"next"}\n')]);
    const { items } = await read('enc.jsonl', bytes);
    expect(brief(items)).toEqual([
      ['r', 1, 1, { a: 'ok' }],
      ['p', 2, 2, 8, 'invalid UTF-8 byte 0xff; save the file as UTF-8'],
      ['r', 3, 3, { a: 'next' }],
    ]);
  });

  it('a line larger than MAX_RECORD_BYTES is a problem, not a buffer: the next line is read', async () => {
    const big = `{"text":"${'x'.repeat(MAX_RECORD_BYTES)}"}`;
    const { items } = await read('big.jsonl', `{"a":1}\n${big}\n{"a":3}\n`);
    expect(brief(items)).toEqual([
      ['r', 1, 1, { a: 1 }],
      ['p', 2, 2, 1, 'record is too large: quire reads records up to 16 MiB, this one is 16.0 MiB'],
      ['r', 3, 3, { a: 3 }],
    ]);
  });
});

describe('CSV', () => {
  it('maps the (trimmed) header to each record as text; quotes, doubled quotes, embedded newlines, CRLF, BOM, unicode', async () => {
    const text = [
      '\ufeff text , n ,note',
      'hello,1,plain',
      '"multi\r\nline\r\nvalue",2,"say ""hi"""',
      '',
      '"a, b",3,😀 中文',
      '"",4,""',
    ].join('\r\n');
    const { source, items } = await read('in.csv', `${text}\r\n`);
    expect(source.format).toBe('csv');
    expect(brief(items)).toEqual([
      ['r', 1, 2, { text: 'hello', n: '1', note: 'plain' }],
      ['r', 2, 3, { text: 'multi\r\nline\r\nvalue', n: '2', note: 'say "hi"' }],
      // After a three-line record and an empty line, the line numbers still match the file.
      ['r', 3, 7, { text: 'a, b', n: '3', note: '😀 中文' }],
      ['r', 4, 8, { text: '', n: '4', note: '' }],
    ]);
    expect(items.every((item) => item.kind === 'record' && item.record.text === true)).toBe(true);
    expect(source.position().bytesRead).toBe(source.position().totalBytes);
  });

  it('a record with the wrong number of fields is a problem naming its line; reading goes on', async () => {
    const text = 'a,b\n1,2\n"x\ny",3,extra\n4\n5,6\n';
    const { items } = await read('count.csv', text);
    expect(brief(items)).toEqual([
      ['r', 1, 2, { a: '1', b: '2' }],
      ['p', 2, 3, 1, 'record has 3 fields; the header (line 1) names 2'],
      ['p', 3, 5, 1, 'record has 1 field; the header (line 1) names 2'],
      ['r', 4, 6, { a: '5', b: '6' }],
    ]);
  });

  it('an unterminated quote is one problem at the record where it opens, then nothing more', async () => {
    const { items } = await read('open.csv', 'a,b\n1,2\n\n"never closed,3\n4,5\n6,7\n');
    expect(brief(items)).toEqual([
      ['r', 1, 2, { a: '1', b: '2' }],
      ['p', 2, 4, 1, 'a quoted field in this record is never closed: the file ends inside it (a missing ")'],
    ]);
  });

  it('a malformed quote mid-file stops the reading after one problem', async () => {
    const { items } = await read('quote.csv', 'a,b\n1,2\n"x"y,3\n4,5\n');
    expect(brief(items)).toEqual([
      ['r', 1, 2, { a: '1', b: '2' }],
      ['p', 2, 3, 1, `a quoted field's closing quote must be followed by a comma or the end of the line; write a quote inside a quoted field as ""`],
    ]);
  });

  it('invalid UTF-8 in a field is a problem for that record', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n3,4\n')]);
    const { items } = await read('enc.csv', bytes);
    expect(brief(items)).toEqual([
      ['p', 1, 2, 1, 'field "b": invalid UTF-8 byte 0xc3; save the file as UTF-8'],
      ['r', 2, 3, { a: '3', b: '4' }],
    ]);
  });

  it('an empty or duplicate header name throws RECORD at the header line', async () => {
    const cwd = folder({ 'empty.csv': 'a,,c\n1,2,3\n', 'dup.csv': '\na, b ,b\n1,2,3\n' });
    const empty = await appError(collect(await openRecordSource('empty.csv', { cwd })));
    expect(empty.code).toBe('RECORD');
    expect(empty.location).toEqual({ file: 'empty.csv', line: 1, col: 1 });
    expect(empty.message).toMatch(/column 2 has no name/);
    const dup = await appError(collect(await openRecordSource('dup.csv', { cwd })));
    expect(dup.location).toEqual({ file: 'dup.csv', line: 2, col: 1 });
    expect(dup.message).toMatch(/names "b" twice/);
  });

  it('a record larger than MAX_RECORD_BYTES is a problem, then the reading stops', async () => {
    const { items } = await read('big.csv', `a,b\n1,2\n3,${'y'.repeat(MAX_RECORD_BYTES + 10)}\n5,6\n`);
    expect(brief(items)).toEqual([
      ['r', 1, 2, { a: '1', b: '2' }],
      ['p', 2, 3, 1, 'record is too large: quire reads records up to 16 MiB, this one is larger than that'],
    ]);
  });

  it('a header with no records yields nothing; a line of spaces in a multi-column file is blank', async () => {
    expect((await read('only.csv', 'a,b\n')).items).toEqual([]);
    expect(brief((await read('spaces.csv', 'a,b\n  \n1,2\n')).items)).toEqual([['r', 1, 3, { a: '1', b: '2' }]]);
  });
});

describe('YAML', () => {
  it('reads a top-level list of mappings, with comments, a document start and directives', async () => {
    const text = [
      '\ufeff%YAML 1.2',
      '# batch input',
      '---',
      '- text: hello',
      '  n: 3',
      '',
      '# a comment between items',
      '- text: |',
      '    two',
      '    lines',
      '  tags: [a, b]',
      '-   text: "😀 中文"',
      '...',
    ].join('\r\n');
    const { source, items } = await read('in.yaml', text);
    expect(source.format).toBe('yaml');
    expect(brief(items)).toEqual([
      ['r', 1, 4, { text: 'hello', n: 3 }],
      ['r', 2, 8, { text: 'two\nlines\n', tags: ['a', 'b'] }],
      ['r', 3, 12, { text: '😀 中文' }],
    ]);
    expect(items.every((item) => item.kind === 'record' && item.record.text === false)).toBe(true);
  });

  it('a bad item is a problem located in the file; an item that is not a mapping too; reading goes on', async () => {
    const text = [
      '- text: a', // 1
      '- text: b', // 2
      '  text: again', // 3: duplicate key
      '- just a string', // 4
      '-', // 5
      '- - nested', // 6
      '- text: [unclosed', // 7
      '- text: ok', // 8
    ].join('\n');
    const { items } = await read('bad.yml', text);
    const got = brief(items);
    expect(got[0]).toEqual(['r', 1, 1, { text: 'a' }]);
    expect(got[1]).toEqual(['p', 2, 3, 3, 'duplicate key "text"; each key may appear once']);
    expect(got[2]).toEqual(['p', 3, 4, 3, 'a record must be a mapping (name: value lines under the "-"), not a string']);
    expect(got[3]).toEqual(['p', 4, 5, 1, 'a record must be a mapping (name: value lines under the "-"), not an empty item']);
    expect(got[4]).toEqual(['p', 5, 6, 3, 'a record must be a mapping (name: value lines under the "-"), not a list']);
    expect(got[5]).toEqual(['p', 6, 7, 18, expect.stringMatching(/^invalid YAML: Flow sequence/)]);
    expect(got[6]).toEqual(['r', 7, 8, { text: 'ok' }]);
    expect(items).toHaveLength(7);
  });

  it('a file that is not a list throws RECORD; a stray top-level line after items is a problem', async () => {
    const cwd = folder({ 'map.yaml': '# records\ntext: hello\nn: 3\n', 'stray.yaml': '- a: 1\nb: 2\nc: 3\n- a: 4\n' });
    const error = await appError(collect(await openRecordSource('map.yaml', { cwd })));
    expect(error.code).toBe('RECORD');
    expect(error.location).toEqual({ file: 'map.yaml', line: 2, col: 1 });
    expect(error.message).toMatch(/must be a YAML list of records/);
    const items = await collect(await openRecordSource('stray.yaml', { cwd }));
    expect(brief(items)).toEqual([
      ['r', 1, 1, { a: 1 }],
      ['p', 2, 2, 1, expect.stringMatching(/^expected a list item/)],
      ['r', 3, 4, { a: 4 }],
    ]);
  });

  it('nesting past 64 levels is a problem, not a stack overflow', async () => {
    let value = '1';
    for (let i = 0; i < 70; i++) value = `{k: ${value}}`;
    const { items } = await read('deep.yaml', `- deep: ${value}\n- ok: true\n`);
    expect(brief(items)[0]).toEqual(['p', 1, 1, expect.any(Number), expect.stringMatching(/nested more than 64 levels/)]);
    expect(brief(items)[1]).toEqual(['r', 2, 2, { ok: true }]);
  });

  it('an item larger than MAX_RECORD_BYTES is a problem; the next item is read', async () => {
    const line = `  - ${'z'.repeat(1024 * 1024)}\n`;
    const { items } = await read('big.yaml', `- a: 1\n- big:\n${line.repeat(17)}- a: 3\n`);
    expect(brief(items)).toEqual([
      ['r', 1, 1, { a: 1 }],
      ['p', 2, 2, 1, 'record is too large: quire reads records up to 16 MiB, this one is larger than that'],
      ['r', 3, 20, { a: 3 }],
    ]);
  });
});

describe('every format', () => {
  it('a __proto__ key is an own property, never the prototype', async () => {
    const jsonl = (await read('p.jsonl', '{"__proto__": {"polluted": 1}, "a": 1}\n')).items[0]!;
    const csv = (await read('p.csv', '__proto__,a\nx,1\n')).items[0]!;
    const yaml = (await read('p.yaml', '- __proto__: {polluted: 1}\n  a: 1\n')).items[0]!;
    for (const item of [jsonl, csv, yaml]) {
      expect(item.kind).toBe('record');
      if (item.kind !== 'record') continue;
      expect(Object.getPrototypeOf(item.record.values)).toBe(Object.prototype);
      expect(Object.hasOwn(item.record.values, '__proto__')).toBe(true);
      expect((item.record.values as { polluted?: unknown }).polluted).toBeUndefined();
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('a missing file is NOT_FOUND and a folder is IO, both naming the path', async () => {
    const cwd = folder({ 'sub/x.txt': 'x' });
    const missing = await appError(openRecordSource('nope.jsonl', { cwd }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('nope.jsonl');
    const dir = await appError(openRecordSource('sub', { cwd }));
    expect(dir.code).toBe('IO');
    expect(dir.message).toContain('sub');
  });

  it('a UTF-16 file is refused as a whole', async () => {
    const error = await appError(read('u16.csv', Buffer.from('\ufeffa,b\n1,2\n', 'utf16le')));
    expect(error.code).toBe('ENCODING');
  });

  it('the format: given, else by extension, else sniffed past blanks and comments; a JSON array is refused', async () => {
    const cwd = folder({
      'a.ndjson': '{"a":1}\n',
      'a.txt': '\n# note\n  {"a":1}\n',
      'b.data': '# items\n- a: 1\n',
      'c': 'a,b\n1,2\n',
      'd.json': '  [{"a": 1}]\n',
      'e.json': '{"a":1}\n{"a":2}\n',
      'f.yaml': '{"a":1}\n',
    });
    const formatOf = async (path: string, format?: 'jsonl' | 'csv' | 'yaml') => {
      const source = await openRecordSource(path, { cwd, ...(format ? { format } : {}) });
      await source.close(); // never iterated: closed here, not by the garbage collector
      return source.format;
    };
    expect(await formatOf('a.ndjson')).toBe('jsonl');
    expect(await formatOf('a.txt')).toBe('jsonl');
    expect(await formatOf('b.data')).toBe('yaml');
    expect(await formatOf('c')).toBe('csv');
    expect(await formatOf('e.json')).toBe('jsonl');
    expect(await formatOf('f.yaml', 'jsonl')).toBe('jsonl');
    const array = await appError(openRecordSource('d.json', { cwd }));
    expect(array.code).toBe('RECORD');
    expect(array.message).toMatch(/JSON array.*JSONL/);
  });

  it('an input of nothing but blanks and comments sniffs as CSV (no decision)', async () => {
    const cwd = folder({ comments: '# x\n\n'.repeat(10) });
    const comments = await openRecordSource('comments', { cwd });
    await comments.close();
    expect(comments.format).toBe('csv');
  });
});

describe('stdin', () => {
  it('sniffs each format, a BOM split across chunks included; position has no total', async () => {
    const jsonl = await openRecordSource('-', { stdin: stdinOf(Buffer.from([0xef]), Buffer.from([0xbb, 0xbf]), '\n{"a":', '1}\n{"a":2}') });
    expect(jsonl.format).toBe('jsonl');
    expect(jsonl.path).toBe('-');
    expect(brief(await collect(jsonl))).toEqual([
      ['r', 1, 2, { a: 1 }],
      ['r', 2, 3, { a: 2 }],
    ]);
    expect(jsonl.position()).toEqual({ bytesRead: 19 });

    const yaml = await openRecordSource('-', { stdin: stdinOf('# c\n', '- a: 1\n-', ' a: 2\n') });
    expect(yaml.format).toBe('yaml');
    expect(brief(await collect(yaml))).toEqual([
      ['r', 1, 2, { a: 1 }],
      ['r', 2, 3, { a: 2 }],
    ]);

    const csv = await openRecordSource('-', { stdin: stdinOf('a,b\n1,', '2\n') });
    expect(csv.format).toBe('csv');
    expect(brief(await collect(csv))).toEqual([['r', 1, 2, { a: '1', b: '2' }]]);

    const given = await openRecordSource('-', { format: 'jsonl', stdin: stdinOf('{"a":1}\n') });
    expect(brief(await collect(given))).toEqual([['r', 1, 1, { a: 1 }]]);
  });

  it('an empty stdin yields no records', async () => {
    const source = await openRecordSource('-', { stdin: stdinOf() });
    expect(await collect(source)).toEqual([]);
  });

  it('stopping early lets the input go', async () => {
    const stdin = stdinOf('{"a":1}\n', '{"a":2}\n', '{"a":3}\n');
    const source = await openRecordSource('-', { stdin });
    for await (const item of source.records) {
      expect(item.kind).toBe('record');
      break;
    }
    expect(stdin.destroyed).toBe(true);
  });

  it.runIf(existsSync('/proc/self/fd'))('stopping early closes the file, in every format', async () => {
    const cwd = folder({ 'a.jsonl': '{"a":1}\n{"a":2}\n', 'a.csv': 'a\n1\n2\n', 'a.yaml': '- a: 1\n- a: 2\n' });
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for (const name of ['a.jsonl', 'a.csv', 'a.yaml']) {
      const source = await openRecordSource(name, { cwd });
      for await (const item of source.records) {
        expect(item.kind).toBe('record');
        break;
      }
    }
    // The handle is closed asynchronously after the stream is destroyed.
    for (let i = 0; i < 100 && openFds() > before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(openFds()).toBe(before);
  });
});

describe('progress and hash', () => {
  it('position() advances with the reading and ends at the file size', async () => {
    const files = {
      'p.jsonl': `{"text":"${'p'.repeat(90)}"}\n`.repeat(5000),
      'p.csv': `text\n${`${'q'.repeat(99)}\n`.repeat(5000)}`,
      'p.yaml': `- text: ${'r'.repeat(90)}\n`.repeat(5000),
    };
    const cwd = folder(files);
    for (const name of Object.keys(files)) {
      const total = statSync(join(cwd, name)).size;
      const source = await openRecordSource(name, { cwd });
      const seen: number[] = [];
      for await (const item of source.records) {
        if (item.kind !== 'record') throw new Error(`unexpected problem in ${name}`);
        const { bytesRead, totalBytes } = source.position();
        if (totalBytes !== total) throw new Error(`totalBytes ${totalBytes} for ${name}`);
        seen.push(bytesRead);
      }
      expect(seen).toHaveLength(5000);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(seen[0]).toBeLessThan(total / 2); // a chunk or two ahead of the records, not the whole file
      expect(source.position()).toEqual({ bytesRead: total, totalBytes: total });
    }
  });

  it('hashRecordFile streams the sha256 of the file', async () => {
    const content = Buffer.from(`\ufeff${'{"a":"é"}\n'.repeat(20000)}`);
    const cwd = folder({ 'h.jsonl': content });
    expect(await hashRecordFile('h.jsonl', { cwd })).toEqual({ hash: contentHash(content), bytes: content.length });
    expect(await hashRecordFile(join(cwd, 'h.jsonl'))).toEqual({ hash: contentHash(readFileSync(join(cwd, 'h.jsonl'))), bytes: content.length });
    expect((await appError(hashRecordFile('none.jsonl', { cwd }))).code).toBe('NOT_FOUND');
  });
});

describe('a large file', () => {
  it('streams 200,000 JSONL lines in flat memory', async () => {
    const LINES = 200_000;
    const cwd = folder({});
    const path = join(cwd, 'large.jsonl');
    // Written in slices so the test itself never holds the whole file.
    const pad = 'w'.repeat(120);
    writeFileSync(path, '');
    for (let start = 0; start < LINES; start += 20_000) {
      let slice = '';
      for (let i = start; i < start + 20_000; i++) slice += `{"i":${i},"text":"${pad}"}\n`;
      writeFileSync(path, slice, { flag: 'a' });
    }
    const size = statSync(path).size;
    // A collection before each sample measures what the reader keeps, not garbage not yet collected.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = () => {
      gc();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const before = used();
    let peak = 0;
    let count = 0;
    let lastIndex = 0;
    const source = await openRecordSource('large.jsonl', { cwd });
    for await (const item of source.records) {
      if (item.kind !== 'record') throw new Error(`unexpected problem: ${JSON.stringify(item)}`);
      count++;
      lastIndex = item.record.index;
      if (count % 25_000 === 0) peak = Math.max(peak, used() - before);
    }
    expect(count).toBe(LINES);
    expect(lastIndex).toBe(LINES);
    expect(source.position().bytesRead).toBe(size);
    expect(size).toBeGreaterThan(25 * 1024 * 1024);
    expect(peak).toBeLessThan(size / 10);
  });
});
