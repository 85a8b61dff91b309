import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

const CHUNK = 64 * 1024;
/** A runtime printing megabytes without a newline must not grow the supervisor's memory without bound. */
const MAX_LINE = 1024 * 1024;

/**
 * Reads a file that another process appends to, like `tail -f` from its first byte: each call of `pump()`
 * hands over the complete lines appended since the previous call and keeps an unterminated last line (and a
 * UTF-8 character cut between two reads) until it is completed. Callers decide when to pump (file watcher,
 * timer); lines are delivered in order and each `onLine` is awaited before the next.
 */
export class LineFollower {
  private fh: FileHandle | null = null;
  private position = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private mtime: number | null = null;

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void | Promise<void>,
  ) {}

  /** Time of the last write to the file (ms since the epoch); null while it is empty. */
  get lastWriteAt(): number | null {
    return this.mtime;
  }

  /** `final`: the writer is gone, so an unterminated last line is complete as it is. */
  async pump(final = false): Promise<void> {
    const fh = await this.handle();
    if (fh === null) return;
    const st = await fh.stat();
    if (st.size > 0) this.mtime = st.mtimeMs;
    while (this.position < st.size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, st.size - this.position));
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.position);
      if (bytesRead === 0) break;
      this.position += bytesRead;
      await this.split(this.decoder.write(buf.subarray(0, bytesRead)));
    }
    if (final) {
      const rest = this.partial + this.decoder.end();
      this.partial = '';
      if (rest !== '') await this.onLine(stripCr(rest));
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }

  private async handle(): Promise<FileHandle | null> {
    if (this.fh) return this.fh;
    try {
      this.fh = await open(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return this.fh;
  }

  private async split(text: string): Promise<void> {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) await this.onLine(stripCr(line));
    if (this.partial.length > MAX_LINE) {
      const long = this.partial;
      this.partial = '';
      await this.onLine(long);
    }
  }
}

const stripCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);
