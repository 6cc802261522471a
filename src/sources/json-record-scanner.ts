import { SourceFileError } from '../core/errors.js';
import { describeByte } from './describe-byte.js';

/** Receives each record as the scanner finds it, its bytes already flattened onto one line. */
export interface RecordSink {
  startRecord(record: number, line: number, byte: number): void;
  recordBytes(buffer: Buffer, start: number, end: number): void;
  endRecord(): void;
}

export interface JsonRecordScannerOptions {
  /** Key of the top-level object holding the records; null when the document is the array itself. */
  recordsPath: string | null;
  displayName: string;
  sink: RecordSink;
}

// Where the scanner stands in the document's outer structure (everything but record and value bodies).
const DOC_START = 0;
const BOM = 1;
const OBJECT_FIRST_KEY = 2;
const OBJECT_NEXT_KEY = 3;
const KEY = 4;
const AFTER_KEY = 5;
const BEFORE_VALUE = 6;
const SKIP_VALUE = 7;
const AFTER_VALUE = 8;
const ARRAY_FIRST = 9;
const ARRAY_NEXT = 10;
const RECORD = 11;
const AFTER_RECORD = 12;
const TRAILING = 13;

// Byte classes inside a value, outside strings: one lookup sorts a byte into the few that matter.
const PLAIN = 0;
const LF = 1;
const CR = 2;
const QUOTE = 3;
const OPEN = 4;
const CLOSE = 5;

const VALUE_CLASS = byteTable({
  [LF]: [0x0a],
  [CR]: [0x0d],
  [QUOTE]: [0x22],
  [OPEN]: [0x7b, 0x5b],
  [CLOSE]: [0x7d, 0x5d],
});
/** First bytes of a number, true, false or null. */
const SCALAR_START = byteTable({
  1: [0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x74, 0x66, 0x6e],
});
/** Bytes that end a number, true, false or null: whitespace and structure. */
const SCALAR_END = byteTable({ 1: [0x20, 0x09, 0x0a, 0x0d, 0x2c, 0x3a, 0x22, 0x5b, 0x5d, 0x7b, 0x7d] });

function byteTable(classes: Record<number, number[]>): Uint8Array {
  const table = new Uint8Array(256);
  for (const [value, bytes] of Object.entries(classes)) for (const byte of bytes) table[byte] = Number(value);
  return table;
}

const MAX_KEYS_LISTED = 10;
const TRUNCATED_HINT = 'the file may have been cut off during download or export; fetch it again';

/**
 * A byte-level state machine that finds the records of a JSON array without parsing them.
 * Parsing every record in JavaScript is what makes large files slow; the scanner only tracks
 * strings, escapes and bracket nesting, which is enough to cut records apart and to catch
 * truncation and broken structure. Full grammar checks are left to whoever parses the records.
 *
 * Feed it consecutive buffers, then call finish(). It never keeps a reference to a buffer it was
 * fed, so the caller may reuse one read buffer.
 */
export class JsonRecordScanner {
  private readonly recordsPath: string | null;
  private readonly displayName: string;
  private readonly sink: RecordSink;

  private state = DOC_START;
  private base = 0;
  private line = 1;
  private bomMatched = 0;

  private keyParts: Buffer[] = [];
  private keyLine = 0;
  private keyByte = 0;
  private key = '';
  private readonly keysSeen: string[] = [];
  private keyCount = 0;
  private recordsFound = false;
  private records = 0;
  private recordLine = 0;
  private recordByte = 0;

  // The value (record or skipped top-level value) being scanned.
  private valueStarted = false;
  private valueDone = false;
  private inString = false;
  private escaped = false;
  private inScalar = false;
  /** Closing byte expected for each open bracket. */
  private readonly stack: number[] = [];

  constructor(options: JsonRecordScannerOptions) {
    this.recordsPath = options.recordsPath;
    this.displayName = options.displayName;
    this.sink = options.sink;
  }

  get recordCount(): number {
    return this.records;
  }

  /** Scans buffer[0, length), which starts at byte `base` of the file. */
  feed(buffer: Buffer, length: number, base: number): void {
    this.base = base;
    let i = 0;
    while (i < length) {
      const state = this.state;
      if (state === RECORD) {
        const from = i;
        i = this.scanValue(buffer, i, length);
        this.sink.recordBytes(buffer, from, i);
        if (this.valueDone) {
          this.sink.endRecord();
          this.state = AFTER_RECORD;
        }
      } else if (state === SKIP_VALUE) {
        i = this.scanValue(buffer, i, length);
        if (this.valueDone) this.state = AFTER_VALUE;
      } else if (state === KEY) {
        i = this.scanKey(buffer, i, length);
      } else if (state === BOM) {
        i = this.scanBom(buffer, i);
      } else {
        i = this.scanStructure(buffer, i, length);
      }
    }
  }

  /** Checks that the document ended where it should; `size` is the file's length in bytes. */
  finish(size: number): void {
    const state = this.state;
    if (state === TRAILING) return;
    if (state === DOC_START) {
      this.fail('file is empty', size, 'the source produced no JSON document; check the download or export');
    }
    if (state === BOM) this.fail('file ends after a partial byte-order mark', size, TRUNCATED_HINT);
    if (state === RECORD) {
      const inside = this.inString
        ? `inside a string in record ${this.records}`
        : `inside record ${this.records}`;
      this.fail(
        `unexpected end of file ${inside}: the file looks truncated`,
        size,
        `record ${this.records} starts at line ${this.recordLine} (byte ${this.recordByte}); ${TRUNCATED_HINT}`,
        this.records,
      );
    }
    if (state === ARRAY_FIRST || state === ARRAY_NEXT || state === AFTER_RECORD) {
      const after = this.records === 0 ? 'before its first record' : `after record ${this.records}`;
      this.fail(
        `unexpected end of file inside ${this.arrayName()}, ${after}: the file looks truncated`,
        size,
        TRUNCATED_HINT,
        this.records === 0 ? undefined : this.records,
      );
    }
    if (state === SKIP_VALUE) {
      this.fail(
        `unexpected end of file inside the value of ${quote(this.key)}: the file looks truncated`,
        size,
        TRUNCATED_HINT,
      );
    }
    this.fail(
      'unexpected end of file inside the top-level object: the file looks truncated',
      size,
      TRUNCATED_HINT,
    );
  }

  private scanBom(buffer: Buffer, i: number): number {
    const expected = this.bomMatched === 1 ? 0xbb : 0xbf;
    const byte = buffer[i]!;
    if (byte !== expected) {
      this.fail(
        `expected a JSON document, found ${describeByte(0xef)} then ${describeByte(byte)} at the start of the file`,
        this.base + i,
        'this does not look like UTF-8 JSON; check the file format and encoding',
      );
    }
    this.bomMatched++;
    if (this.bomMatched === 3) this.state = DOC_START;
    return i + 1;
  }

  /** Whitespace, then one byte of the document's outer structure. */
  private scanStructure(buffer: Buffer, i: number, end: number): number {
    let line = this.line;
    while (i < end) {
      const byte = buffer[i]!;
      if (byte === 0x20 || byte === 0x09 || byte === 0x0d) i++;
      else if (byte === 0x0a) {
        line++;
        i++;
      } else break;
    }
    this.line = line;
    if (i === end) return i;

    const byte = buffer[i]!;
    const at = this.base + i;
    switch (this.state) {
      case DOC_START:
        return this.documentStart(byte, i);
      case OBJECT_FIRST_KEY:
      case OBJECT_NEXT_KEY:
        if (byte === 0x22) {
          this.state = KEY;
          this.keyParts = [];
          this.keyLine = line;
          this.keyByte = at;
          this.inString = true;
          this.escaped = false;
          return i + 1;
        }
        if (byte === 0x7d && this.state === OBJECT_FIRST_KEY) return this.endTopObject(at, i);
        if (byte === 0x7d)
          this.fail("unexpected '}' after a ',' in the top-level object", at, 'remove the trailing comma');
        return this.fail(
          `expected a key (a quoted string) in the top-level object, found ${describeByte(byte)}`,
          at,
          NOT_JSON_HINT,
        );
      case AFTER_KEY:
        if (byte === 0x3a) {
          this.state = BEFORE_VALUE;
          return i + 1;
        }
        return this.fail(
          `expected ':' after the key ${quote(this.key)}, found ${describeByte(byte)}`,
          at,
          NOT_JSON_HINT,
        );
      case BEFORE_VALUE:
        if (this.key === this.recordsPath) return this.recordsArrayStart(byte, i);
        this.beginValue();
        this.state = SKIP_VALUE;
        return i;
      case AFTER_VALUE:
        if (byte === 0x2c) {
          this.state = OBJECT_NEXT_KEY;
          return i + 1;
        }
        if (byte === 0x7d) return this.endTopObject(at, i);
        return this.fail(
          `expected ',' or '}' after the value of ${quote(this.key)}, found ${describeByte(byte)}`,
          at,
          byte === 0x22 ? 'a comma is probably missing between two top-level keys' : NOT_JSON_HINT,
        );
      case ARRAY_FIRST:
      case ARRAY_NEXT:
        if (byte === 0x5d) {
          if (this.state === ARRAY_FIRST) return this.endRecordsArray(i);
          this.fail(
            `unexpected ']' after a ',' following record ${this.records}`,
            at,
            'remove the trailing comma',
            this.records,
          );
        }
        if (byte === 0x2c) {
          this.fail(
            `expected record ${this.records + 1}, found ','`,
            at,
            'two commas follow each other, or the array starts with one',
            this.records + 1,
          );
        }
        this.records++;
        this.recordLine = line;
        this.recordByte = at;
        this.beginValue();
        this.sink.startRecord(this.records, line, at);
        this.state = RECORD;
        return i;
      case AFTER_RECORD:
        if (byte === 0x2c) {
          this.state = ARRAY_NEXT;
          return i + 1;
        }
        if (byte === 0x5d) return this.endRecordsArray(i);
        return this.fail(
          `expected ',' or ']' after record ${this.records}, found ${describeByte(byte)}`,
          at,
          VALUE_OPENERS.has(byte)
            ? `a comma is probably missing between records ${this.records} and ${this.records + 1}`
            : NOT_JSON_HINT,
          this.records,
        );
      default:
        return this.fail(
          `unexpected text after the end of the JSON document: ${describeByte(byte)}`,
          at,
          'the file may hold several concatenated documents, or junk was appended to it',
        );
    }
  }

  private documentStart(byte: number, i: number): number {
    const at = this.base + i;
    if (byte === 0xef && at === 0) {
      this.state = BOM;
      this.bomMatched = 1;
      return i + 1;
    }
    if (this.recordsPath === null) {
      if (byte === 0x5b) {
        this.state = ARRAY_FIRST;
        return i + 1;
      }
      return this.fail(
        `expected a JSON array of records, but the document starts with ${describeByte(byte)}`,
        at,
        byte === 0x7b
          ? 'the records are inside an object: set recordsPath to the key that holds them'
          : startHint(byte),
      );
    }
    if (byte === 0x7b) {
      this.state = OBJECT_FIRST_KEY;
      return i + 1;
    }
    return this.fail(
      `expected a JSON object holding a ${quote(this.recordsPath)} array, but the document starts with ${describeByte(byte)}`,
      at,
      byte === 0x5b ? 'the document is itself an array of records: set recordsPath to null' : startHint(byte),
    );
  }

  private recordsArrayStart(byte: number, i: number): number {
    const at = this.base + i;
    if (this.recordsFound) {
      this.fail(
        `${quote(this.key)} appears twice at the top level`,
        this.keyByte,
        'keep one records array per file',
        undefined,
        this.keyLine,
      );
    }
    if (byte !== 0x5b) {
      this.fail(
        `${quote(this.key)} at the top level holds ${describeValue(byte)}, not an array`,
        at,
        `the records must be a JSON array: {${quote(this.key)}: [{...}, {...}]}`,
      );
    }
    this.recordsFound = true;
    this.state = ARRAY_FIRST;
    return i + 1;
  }

  private endRecordsArray(i: number): number {
    this.state = this.recordsPath === null ? TRAILING : AFTER_VALUE;
    return i + 1;
  }

  private endTopObject(at: number, i: number): number {
    if (!this.recordsFound) {
      const path = this.recordsPath ?? '';
      const listed = this.keysSeen.map(quote).join(', ');
      const more =
        this.keyCount > this.keysSeen.length ? ` and ${this.keyCount - this.keysSeen.length} more` : '';
      const found = this.keyCount === 0 ? 'the top-level object is empty' : `keys found: ${listed}${more}`;
      const lookalike = this.keysSeen.find((key) => key.toLowerCase() === path.toLowerCase());
      this.fail(
        `no ${quote(path)} array at the top level (${found})`,
        at,
        lookalike === undefined
          ? "check the source's recordsPath, and that this is the right file"
          : `keys are case-sensitive: did you mean ${quote(lookalike)}?`,
      );
    }
    this.state = TRAILING;
    return i + 1;
  }

  private scanKey(buffer: Buffer, i: number, end: number): number {
    const next = this.scanString(buffer, i, end);
    const closed = !this.inString;
    // Copied, not sliced: the caller reuses the read buffer.
    this.keyParts.push(Buffer.from(buffer.subarray(i, closed ? next - 1 : next)));
    if (!closed) return next;

    const raw = Buffer.concat(this.keyParts).toString('utf8');
    let key: unknown;
    try {
      key = JSON.parse(`"${raw}"`);
    } catch {
      key = undefined;
    }
    if (typeof key !== 'string') {
      this.fail(
        `invalid key string at the top level: "${raw.slice(0, 80)}"`,
        this.keyByte,
        NOT_JSON_HINT,
        undefined,
        this.keyLine,
      );
    }
    this.key = key;
    this.keyCount++;
    if (this.keysSeen.length < MAX_KEYS_LISTED) this.keysSeen.push(key);
    this.state = AFTER_KEY;
    return next;
  }

  private beginValue(): void {
    this.valueStarted = false;
    this.valueDone = false;
    this.inString = false;
    this.escaped = false;
    this.inScalar = false;
    this.stack.length = 0;
  }

  /**
   * Scans a JSON value until it closes or the buffer ends; returns where it stopped. Line breaks
   * outside strings are overwritten with spaces in place, so the caller can copy the bytes as one line.
   */
  private scanValue(buffer: Buffer, i: number, end: number): number {
    if (!this.valueStarted) {
      const byte = buffer[i]!;
      this.valueStarted = true;
      if (byte === 0x7b || byte === 0x5b) this.stack.push(byte + 2);
      else if (byte === 0x22) this.inString = true;
      else if (SCALAR_START[byte] === 1) this.inScalar = true;
      else {
        this.fail(
          `expected ${this.state === RECORD ? `record ${this.records} (a JSON value)` : `the value of ${quote(this.key)}`}, found ${describeByte(byte)}`,
          this.base + i,
          NOT_JSON_HINT,
          this.state === RECORD ? this.records : undefined,
        );
      }
      i++;
    }
    if (this.inScalar) {
      while (i < end && SCALAR_END[buffer[i]!] === 0) i++;
      if (i < end) {
        this.inScalar = false;
        this.valueDone = true;
      }
      return i;
    }

    // Strings are scanned inline with the state in locals: most records hold dozens of short
    // strings, and a method call plus field writes per string costs as much as the scan itself.
    const stack = this.stack;
    let line = this.line;
    let inString = this.inString;
    let escaped = this.escaped;
    let done = false;
    outer: for (;;) {
      if (inString) {
        if (escaped) {
          if (i === end) break;
          const byte = buffer[i]!;
          if (byte === 0x0a || byte === 0x0d) {
            this.line = line;
            this.lineBreakInString(i);
          }
          escaped = false;
          i++;
        }
        // Comparisons beat a table lookup here (measured); control bytes stop the run so that
        // a raw line break is caught below.
        let byte = 0;
        while (i < end) {
          byte = buffer[i]!;
          if (byte === 0x22 || byte === 0x5c || byte < 0x0e) break;
          i++;
        }
        if (i === end) break;
        i++;
        if (byte === 0x22) {
          inString = false;
          if (stack.length === 0) {
            done = true;
            break;
          }
        } else if (byte === 0x5c) {
          escaped = true;
        } else if (byte === 0x0a || byte === 0x0d) {
          this.line = line;
          this.lineBreakInString(i - 1);
        }
        continue;
      }
      while (i < end) {
        const byte = buffer[i]!;
        // Indentation is a quarter of a pretty-printed file: spaces skip the table lookup.
        if (byte === 0x20) {
          i++;
          continue;
        }
        const kind = VALUE_CLASS[byte]!;
        if (kind === PLAIN) {
          i++;
        } else if (kind === LF) {
          buffer[i++] = 0x20;
          line++;
        } else if (kind === CR) {
          buffer[i++] = 0x20;
        } else if (kind === QUOTE) {
          inString = true;
          i++;
          continue outer;
        } else if (kind === OPEN) {
          // '{' + 2 is '}', '[' + 2 is ']'.
          stack.push(byte + 2);
          i++;
        } else {
          const expected = stack.pop();
          if (expected !== byte) {
            this.line = line;
            this.fail(
              `${describeByte(byte)} closes a ${describeByte((expected ?? byte) - 2)} in ${this.where()}`,
              this.base + i,
              'the brackets do not balance here: the file is corrupt, or a comma or quote is missing nearby',
              this.state === RECORD ? this.records : undefined,
            );
          }
          i++;
          if (stack.length === 0) {
            done = true;
            break outer;
          }
        }
      }
      break;
    }
    this.line = line;
    this.inString = inString;
    this.escaped = escaped;
    this.valueDone = done;
    return i;
  }

  /** Scans string content until its closing quote (returns the index after it) or the buffer's end. */
  private scanString(buffer: Buffer, i: number, end: number): number {
    for (;;) {
      if (this.escaped) {
        if (i === end) return i;
        if (buffer[i] === 0x0a || buffer[i] === 0x0d) this.lineBreakInString(i);
        this.escaped = false;
        i++;
      }
      let byte = 0;
      while (i < end) {
        byte = buffer[i]!;
        if (byte === 0x22 || byte === 0x5c || byte === 0x0a || byte === 0x0d) break;
        i++;
      }
      if (i === end) return i;
      if (byte === 0x22) {
        this.inString = false;
        return i + 1;
      }
      if (byte === 0x5c) {
        this.escaped = true;
        i++;
        continue;
      }
      this.lineBreakInString(i);
    }
  }

  /** JSON strings cannot hold raw line breaks; one usually means a quote is missing before it. */
  private lineBreakInString(i: number): never {
    return this.fail(
      `line break inside a string in ${this.where()}`,
      this.base + i,
      'JSON strings cannot span lines: a quote is probably missing or unescaped before this point',
      this.state === RECORD ? this.records : undefined,
    );
  }

  private where(): string {
    if (this.state === RECORD) return `record ${this.records}`;
    if (this.state === KEY) return 'a top-level key';
    return `the value of ${quote(this.key)}`;
  }

  private arrayName(): string {
    return this.recordsPath === null ? 'the top-level array' : `the ${quote(this.recordsPath)} array`;
  }

  private fail(message: string, byte: number, hint: string, record?: number, line = this.line): never {
    throw new SourceFileError(message, {
      context: { file: this.displayName, line, byte, ...(record === undefined ? {} : { record }) },
      hint,
    });
  }
}

const NOT_JSON_HINT = 'the file is not well-formed JSON at this point';
const VALUE_OPENERS = new Set([0x7b, 0x5b, 0x22]);

function quote(key: string): string {
  return JSON.stringify(key);
}

function describeValue(byte: number): string {
  if (byte === 0x7b) return 'an object';
  if (byte === 0x22) return 'a string';
  if (byte === 0x74 || byte === 0x66) return 'a boolean';
  if (byte === 0x6e) return 'null';
  if (byte === 0x2d || (byte >= 0x30 && byte <= 0x39)) return 'a number';
  return `something starting with ${describeByte(byte)}`;
}

function startHint(byte: number): string {
  if (byte === 0xff || byte === 0xfe) return 'the file looks UTF-16 encoded: re-encode it as UTF-8';
  return 'this does not look like a JSON file; check its format and encoding';
}
